/**
 * Set-B brands that are set-A brands under another name. The two packs name some brands
 * differently (simple-icons `googlechrome`, iconify `chrome`) and brandSet() hashes each name on
 * its own, so one logo can fall in both sets: a model trained on set A has then seen that "held-out"
 * set-B brand. selectBrands() never draws these as labelled set-B brands; set A is left as it is
 * (the shipped baseline's training data).
 *
 * Found by scripts/find-set-aliases.ts (byte-identical drawings, name rules, a perceptual score)
 * and judged by eye on its contact sheets. kind:
 *   drawing  a drawing of the B brand is one of the A brand's (identical, recoloured or redrawn)
 *   brand    the same brand under another slug, its drawings there another form or version
 *            (wordmark vs icon, an older mark): at brand level, the demo's labels, it is not unseen
 * Candidates judged different logos (e.g. google, bootstrap, linear, metabase; asana ~ julia,
 * playstation3 ~ playstation5, googleadsense ~ googleads) are not listed.
 *
 * One logo can also be two brands within set B: normaliseKey keeps iconify variants apart
 * (`openrouter-icon-mono`, `elm-classic`, `css-3-official`) and the packs name some brands
 * differently (`wandb` / `weightsandbiases`). A held-out retrieval that finds the twin would be
 * scored wrong, so SET_B_DUPLICATES lists, for each such pair, the member selectBrands skips and
 * the one it keeps (found by `find-set-aliases.ts --within-b`, judged by eye, same kinds). Which
 * member is kept is a fixed rule of the two brands alone, never of a seed (keptDuplicate): the one
 * drawn from more packs (richer renditions; selectBrands' first tier), then the one with a
 * simple-icons glyph (the packs' plain name), then the shorter slug (variants add a suffix), then
 * the first slug in sorting order.
 */

export interface SetAlias {
  /** the set-A brand with the same logo */
  a: string;
  kind: 'drawing' | 'brand';
  reason: string;
}

/** set-B slug → its set-A twin, sorted by B slug */
export const SET_B_ALIASES: Readonly<Record<string, SetAlias>> = {
  altair: { a: 'graphql', kind: 'drawing', reason: 'Altair GraphQL client draws the GraphQL hexagon, recoloured' },
  amex: { a: 'americanexpress', kind: 'drawing', reason: 'the American Express box logo' },
  androidvertical: { a: 'android', kind: 'drawing', reason: 'the Android head above the wordmark (iconify android-vertical)' },
  apache: { a: 'apachehttp', kind: 'drawing', reason: 'the Apache feather (also apachesoftwarefoundation)' },
  apachecouchdb: { a: 'couchdb', kind: 'drawing', reason: 'the CouchDB sofa' },
  apachehbase: { a: 'hbase', kind: 'drawing', reason: 'the HBase orca' },
  appbaseio: { a: 'appbase', kind: 'drawing', reason: 'the appbase.io node mark' },
  azure: { a: 'microsoftazure', kind: 'brand', reason: 'Microsoft Azure: B has the older A-mark and the wordmark, A the current mark' },
  bash: { a: 'gnubash', kind: 'drawing', reason: 'the GNU Bash terminal hexagon' },
  bem: { a: 'bem2', kind: 'brand', reason: 'BEM; iconify bem-2 is another version of its mark' },
  bunnynet: { a: 'bunnydotnet', kind: 'drawing', reason: 'the bunny.net rabbit' },
  cassandra: { a: 'apachecassandra', kind: 'brand', reason: 'Apache Cassandra (iconify vs simple-icons name)' },
  chartdotjs: { a: 'chartjs', kind: 'drawing', reason: 'the Chart.js hexagon' },
  chrome: { a: 'googlechrome', kind: 'drawing', reason: 'the Chrome wheel' },
  conan: { a: 'conanio', kind: 'drawing', reason: 'the Conan C-in-a-cube' },
  concrete5: { a: 'concretecms', kind: 'drawing', reason: 'the concrete5 / Concrete CMS hand (renamed)' },
  cordova: { a: 'apachecordova', kind: 'drawing', reason: 'the Cordova robot' },
  dailydev: { a: 'dailydotdev', kind: 'drawing', reason: 'the daily.dev brackets' },
  dev: { a: 'webdev', kind: 'drawing', reason: 'iconify dev and web-dev are the same web.dev drawing' },
  emacs: { a: 'gnuemacs', kind: 'brand', reason: 'GNU Emacs (iconify vs simple-icons name)' },
  emberdotjs: { a: 'ember', kind: 'brand', reason: 'Ember.js (simple-icons vs iconify name)' },
  envoyproxy: { a: 'envoy', kind: 'drawing', reason: 'the Envoy proxy hexagons' },
  eslintold: { a: 'eslint', kind: 'drawing', reason: 'the ESLint hexagon (iconify eslint-old)' },
  ethereumcolor: { a: 'ethereum', kind: 'drawing', reason: 'the Ethereum diamond, in colour' },
  floodio: { a: 'flood', kind: 'drawing', reason: 'the Flood.io wave in a circle' },
  gitcode: { a: 'atomgit', kind: 'drawing', reason: 'byte-identical simple-icons glyphs' },
  gmail: { a: 'googlegmail', kind: 'drawing', reason: 'the Gmail M' },
  godotengine: { a: 'godot', kind: 'drawing', reason: 'the Godot robot' },
  googleadmob: { a: 'admob', kind: 'brand', reason: 'Google AdMob (simple-icons vs iconify name)' },
  googlecloud: { a: 'googlecloudplatform', kind: 'brand', reason: 'Google Cloud: B has the cloud mark, A the older hexagon' },
  hack: { a: 'hhvm', kind: 'drawing', reason: 'Hack and HHVM share one drawing' },
  handlebarsdotjs: { a: 'handlebars', kind: 'brand', reason: 'Handlebars.js (simple-icons vs iconify name)' },
  influxdata: { a: 'influxdb', kind: 'drawing', reason: 'the InfluxData / InfluxDB cube' },
  kafka: { a: 'apachekafka', kind: 'drawing', reason: 'the Kafka node mark' },
  keystonejs: { a: 'keystone', kind: 'drawing', reason: 'the KeystoneJS K' },
  kimiiconclean: { a: 'kimi', kind: 'drawing', reason: 'the Kimi K (iconify kimi-icon-clean)' },
  kissmetrics: { a: 'kissmetricsmonochromatic', kind: 'drawing', reason: 'the Kissmetrics bars, in one colour' },
  lastdotfm: { a: 'lastfm', kind: 'brand', reason: 'Last.fm (simple-icons vs iconify name)' },
  mailchimp: { a: 'mailchimpfreddie', kind: 'drawing', reason: 'Freddie, the Mailchimp chimp' },
  materialui: { a: 'mui', kind: 'drawing', reason: 'the MUI mark (Material UI renamed)' },
  maven: { a: 'apachemaven', kind: 'brand', reason: 'Apache Maven (iconify vs simple-icons name)' },
  microeditor: { a: 'micro', kind: 'drawing', reason: 'the micro editor μ' },
  microsoft: { a: 'microsoftwindows', kind: 'drawing', reason: 'the four-square grid (Windows draws it in one blue)' },
  natsdotio: { a: 'nats', kind: 'drawing', reason: 'the NATS speech-bubble N' },
  nextjs: { a: 'nextdotjs', kind: 'drawing', reason: 'the Next.js N' },
  nodejs: { a: 'nodedotjs', kind: 'drawing', reason: 'the Node.js hexagon' },
  nodejsiconalt: { a: 'nodedotjs', kind: 'brand', reason: 'Node.js: its hexagon without the letters (iconify nodejs-icon-alt)' },
  notebooklmmono: { a: 'notebooklm', kind: 'drawing', reason: 'the NotebookLM arcs, in one colour' },
  phoenix: { a: 'phoenixframework', kind: 'drawing', reason: 'the Phoenix bird' },
  pi: { a: 'picode', kind: 'drawing', reason: 'the Pi block mark' },
  polymer: { a: 'polymerproject', kind: 'drawing', reason: 'the Polymer mark' },
  protoio: { a: 'protodotio', kind: 'brand', reason: 'Proto.io (iconify vs simple-icons name)' },
  rocketdotchat: { a: 'rocketchat', kind: 'drawing', reason: 'the Rocket.Chat bubble' },
  sailsdotjs: { a: 'sails', kind: 'drawing', reason: 'the Sails.js sail' },
  shields: { a: 'shieldsdotio', kind: 'brand', reason: 'Shields.io (iconify vs simple-icons name)' },
  sketchapp: { a: 'sketch', kind: 'drawing', reason: 'the Sketch diamond' },
  solr: { a: 'apachesolr', kind: 'brand', reason: 'Apache Solr (iconify vs simple-icons name)' },
  threedotjs: { a: 'threejs', kind: 'drawing', reason: 'the three.js triangle' },
  traviscimonochrome: { a: 'travisci', kind: 'drawing', reason: 'the Travis CI mascot, in one colour' },
  typescripticonround: { a: 'typescript', kind: 'brand', reason: 'TypeScript (iconify typescript-icon-round)' },
  uniqloja: { a: 'uniqlo', kind: 'brand', reason: 'Uniqlo, its katakana logo' },
  vercel: { a: 'zeit', kind: 'drawing', reason: 'the triangle (ZEIT renamed Vercel)' },
  vite: { a: 'vitejs', kind: 'drawing', reason: 'Vite (also viteplus, the same drawing)' },
  weaviateiconalt: { a: 'weaviate', kind: 'brand', reason: 'Weaviate (iconify weaviate-icon-alt)' },
  web3dotjs: { a: 'web3js', kind: 'drawing', reason: 'the web3.js mark' },
  webcomponents: { a: 'webcomponentsdotorg', kind: 'drawing', reason: 'the webcomponents.org hexagon' },
  wordpress: { a: 'wordpressiconalt', kind: 'drawing', reason: 'the WordPress W' },
};

export function isSetBAlias(slug: string): boolean {
  return Object.hasOwn(SET_B_ALIASES, slug);
}

export interface SetBDuplicate {
  /** the set-B brand with the same logo that selectBrands keeps */
  kept: string;
  kind: 'drawing' | 'brand';
  reason: string;
}

/** skipped set-B slug → its set-B twin that is kept (keptDuplicate), sorted by skipped slug */
export const SET_B_DUPLICATES: Readonly<Record<string, SetBDuplicate>> = {
  apiai: { kept: 'dialogflow', kind: 'drawing', reason: 'the Dialogflow box (API.AI renamed Dialogflow)' },
  apollostack: { kept: 'apollographql', kind: 'drawing', reason: 'the Apollo A in a ring' },
  ava: { kept: 'avajs', kind: 'drawing', reason: 'the AVA wordmark' },
  biomejs: { kept: 'biome', kind: 'drawing', reason: 'the Biome triangle' },
  bitcoinsv: { kept: 'bitcoin', kind: 'drawing', reason: 'the B in a coin (Bitcoin SV draws it upright): a fork, one mark' },
  craft: { kept: 'craftcms', kind: 'brand', reason: 'Craft CMS: its wordmark (iconify craft)' },
  crateio: { kept: 'cratedb', kind: 'drawing', reason: 'the Crate cross (Crate.io renamed CrateDB)' },
  css3official: { kept: 'css3', kind: 'drawing', reason: 'the CSS3 shield, in gray (iconify css-3-official)' },
  elmclassic: { kept: 'elm', kind: 'drawing', reason: 'the Elm tangram, in its classic colours (iconify elm-classic)' },
  exponent: { kept: 'expo', kind: 'drawing', reason: 'the Expo caret (Exponent renamed Expo)' },
  forestadmin: { kept: 'forest', kind: 'brand', reason: 'Forest Admin (iconify forest and forestadmin, the older and the current mark)' },
  gnupg: { kept: 'gnuprivacyguard', kind: 'drawing', reason: 'the GnuPG padlock' },
  hadoop: { kept: 'apachehadoop', kind: 'drawing', reason: 'the Hadoop elephant' },
  langchaincorporate: { kept: 'langchain', kind: 'drawing', reason: 'the LangChain mark' },
  lucene: { kept: 'apachelucene', kind: 'drawing', reason: 'the Apache Lucene wordmark' },
  mandrillshield: { kept: 'mandrill', kind: 'brand', reason: 'Mandrill: its monkey in a shield (iconify mandrill-shield)' },
  observablehq: { kept: 'observable', kind: 'drawing', reason: 'the Observable O' },
  openapi: { kept: 'openapiinitiative', kind: 'drawing', reason: 'the OpenAPI ring' },
  openroutericonmono: { kept: 'openrouter', kind: 'drawing', reason: 'the OpenRouter mark, in one colour (iconify openrouter-icon-mono)' },
  openshift: { kept: 'redhatopenshift', kind: 'drawing', reason: 'the OpenShift ring' },
  payload: { kept: 'payloadcms', kind: 'brand', reason: 'Payload CMS: its older mark (iconify payload)' },
  reasonml: { kept: 'reason', kind: 'drawing', reason: 'the Reason RE' },
  redlang: { kept: 'red', kind: 'drawing', reason: 'the Red pyramid' },
  rlang: { kept: 'r', kind: 'drawing', reason: 'the R in a ring' },
  semaphore: { kept: 'semaphoreci', kind: 'brand', reason: 'Semaphore CI: its older gear mark (iconify semaphore)' },
  sinatra: { kept: 'rubysinatra', kind: 'brand', reason: 'Sinatra: its hat, drawn another way' },
  solidjs: { kept: 'solid', kind: 'drawing', reason: 'the SolidJS slabs (simple-icons solid)' },
  stenciljs: { kept: 'stencil', kind: 'drawing', reason: 'the Stencil bars' },
  tomcat: { kept: 'apachetomcat', kind: 'drawing', reason: 'the Tomcat cat' },
  twitter: { kept: 'x', kind: 'brand', reason: 'Twitter renamed X: the bird is its older mark' },
  vuetifyjs: { kept: 'vuetify', kind: 'drawing', reason: 'the Vuetify V' },
  wandb: { kept: 'weightsandbiases', kind: 'drawing', reason: 'the Weights & Biases dots' },
  zorinos: { kept: 'zorin', kind: 'drawing', reason: 'the Zorin Z' },
};

export function isSetBDuplicate(slug: string): boolean {
  return Object.hasOwn(SET_B_DUPLICATES, slug);
}

/** A set-B brand selectBrands never draws: an alias of a set-A brand or a duplicate of a kept set-B brand. */
export function isSkippedInSetB(slug: string): boolean {
  return isSetBAlias(slug) || isSetBDuplicate(slug);
}

/** What keptDuplicate reads of a brand (sources.ts Brand; not imported: sources.ts imports this file). */
interface BrandPacks {
  slug: string;
  simpleIcon?: unknown;
  logos: readonly string[];
}

/**
 * The member of a within-B duplicate pair that is kept: drawn from more packs, then the one with a
 * simple-icons glyph, then the shorter slug, then the first slug in sorting order. A function of
 * the two brands only, so the table is the same for every seed.
 */
export function keptDuplicate<T extends BrandPacks>(x: T, y: T): T {
  const packs = (b: T) => Number(b.simpleIcon !== undefined) + Number(b.logos.length > 0);
  const order = [(b: T) => -packs(b), (b: T) => (b.simpleIcon !== undefined ? 0 : 1), (b: T) => b.slug.length];
  for (const key of order) if (key(x) !== key(y)) return key(x) < key(y) ? x : y;
  return x.slug <= y.slug ? x : y;
}
