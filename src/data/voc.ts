/**
 * Pascal VOC annotation XML: reading (fast-xml-parser, well-formedness checked, so a truncated or
 * garbled file is reported as malformed instead of yielding half an annotation) mapped to our
 * annotation type, and a writer for the synth datasets.
 *
 *   <annotation><filename>1.jpg</filename><size><width>W</width><height>H</height><depth>3</depth></size>
 *     <object><name>brand</name><bndbox><xmin/><ymin/><xmax/><ymax/></bndbox></object>…</annotation>
 *
 * Boxes are returned as written (numbers, possibly fractional, possibly outside the image);
 * clipping and degeneracy are the caller's decision (prepare.ts).
 */
import { XMLParser, XMLValidator, type ValidationError } from 'fast-xml-parser';
import { TextDecoder } from 'node:util';
import { LogolabError } from '../errors.js';
import { escapeXml } from '../util/xml.js';

export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

export interface VocObject {
  name: string;
  /** [xmin, ymin, xmax, ymax] as written; NaN where a field is not a number */
  box: [number, number, number, number];
  difficult: boolean;
  truncated: boolean;
}

export interface VocAnnotation {
  filename: string | null;
  width: number | null;
  height: number | null;
  depth: number | null;
  objects: VocObject[];
}

// One parser configuration for VOC: element order kept, attributes and comments dropped, every
// value a string (no number guessing: "007" stays "007"), whitespace kept (fields are trimmed where
// read), XML and numeric character entities decoded.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  cdataPropName: '#cdata',
  commentPropName: false,
});

const lineAt = (text: string, i: number) => text.slice(0, i).split('\n').length;

/** fast-xml-parser's validation error in the words our messages have always used. */
function describe(err: ValidationError['err'], text: string): { line: number; msg: string } {
  if (text.trim() === '' || err.msg === 'Start tag expected.') return { line: 1, msg: 'no root element' };
  // a document cut inside a tag: '<' after the last '>' (the validator reports only the open stack)
  const lt = text.lastIndexOf('<');
  if (lt > text.lastIndexOf('>')) return { line: lineAt(text, lt), msg: 'unterminated tag' };
  let m: RegExpExecArray | null;
  if ((m = /^Invalid '\[(.*)\]' found/s.exec(err.msg))) {
    const open = [...m[1]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]);
    return { line: text.split('\n').length, msg: `unclosed <${open[open.length - 1] ?? '?'}>` };
  }
  if ((m = /^Unclosed tag '(.*)'/.exec(err.msg))) return { line: text.split('\n').length, msg: `unclosed <${m[1]}>` };
  if ((m = /^Expected closing tag '(.*?)' .*instead of closing tag '(.*?)'/.exec(err.msg))) return { line: err.line, msg: `closing </${m[2]}> does not match <${m[1]}>` };
  if (err.code === 'InvalidChar' && err.msg.includes("'&'")) return { line: err.line, msg: "bare '&'" };
  return { line: err.line, msg: err.msg.replace(/\.$/, '') };
}

type OrderedNode = Record<string, unknown>;

function toNode(name: string, items: OrderedNode[]): XmlNode {
  const node: XmlNode = { name, children: [], text: '' };
  for (const item of items) {
    for (const [key, value] of Object.entries(item)) {
      if (key === '#text') node.text += String(value);
      else if (key === '#cdata') node.text += (value as OrderedNode[]).map((c) => String(c['#text'] ?? '')).join('');
      else if (key !== ':@' && !key.startsWith('?')) node.children.push(toNode(key, value as OrderedNode[]));
    }
  }
  return node;
}

/**
 * Parses a whole XML document (fast-xml-parser, validated first so a truncated or garbled file is
 * an error, not half a tree) into a tree of elements; attributes are ignored (VOC has none that
 * matter).
 */
export function parseXml(text: string, where = '<xml>'): XmlNode {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { line, msg } = describe(valid.err, text);
    throw new LogolabError(`${where}: malformed XML at line ${line}: ${msg}`);
  }
  const doc = toNode('#document', parser.parse(text) as OrderedNode[]);
  if (doc.text.replace(/^\ufeff/, '').trim() !== '') throw new LogolabError(`${where}: malformed XML: text outside the root element`);
  if (doc.children.length !== 1) throw new LogolabError(`${where}: malformed XML: ${doc.children.length ? 'more than one root element' : 'no root element'}`);
  return doc.children[0]!;
}

const child = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);
const childText = (n: XmlNode, name: string) => child(n, name)?.text.trim();

function num(s: string | undefined): number {
  if (s === undefined || s === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

/**
 * The text of an XML file's bytes, in the encoding it declares: a byte-order mark, else UTF-16
 * recognised by its first '<?' (XML 1.0 appendix F), else the declaration's `encoding="…"`,
 * else UTF-8. Bytes that are not valid in that encoding are an error naming the file (a replacement
 * character in a logo name would silently fall back to the folder's brand).
 */
export function decodeXml(bytes: Uint8Array, where = '<xml>'): string {
  const b = bytes;
  let label = 'utf-8';
  let skip = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) skip = 3;
  else if (b[0] === 0xff && b[1] === 0xfe) [label, skip] = ['utf-16le', 2];
  else if (b[0] === 0xfe && b[1] === 0xff) [label, skip] = ['utf-16be', 2];
  else if (b[0] === 0x3c && b[1] === 0x00 && b[2] === 0x3f && b[3] === 0x00) label = 'utf-16le';
  else if (b[0] === 0x00 && b[1] === 0x3c && b[2] === 0x00 && b[3] === 0x3f) label = 'utf-16be';
  else {
    // the declaration is ASCII in every encoding this branch can meet
    const head = Buffer.from(b.subarray(0, 200)).toString('latin1');
    const m = /^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']/.exec(head);
    if (m) label = m[1]!;
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new LogolabError(`${where}: declares encoding '${label}', which this runtime cannot decode`);
  }
  try {
    return decoder.decode(b.subarray(skip));
  } catch {
    throw new LogolabError(`${where}: not valid ${decoder.encoding}${label === 'utf-8' && skip === 0 ? " (a file in another encoding must declare it: <?xml version=\"1.0\" encoding=\"…\"?>)" : ''}`);
  }
}

/** Parses VOC XML; throws LogolabError (naming `where`) when malformed or a required field is missing. */
export function parseVoc(text: string, where = '<xml>'): VocAnnotation {
  const root = parseXml(text, where);
  if (root.name !== 'annotation') throw new LogolabError(`${where}: malformed VOC: root element is <${root.name}>, expected <annotation>`);
  const size = child(root, 'size');
  const objects: VocObject[] = [];
  for (const o of root.children.filter((c) => c.name === 'object')) {
    const name = childText(o, 'name');
    if (!name) throw new LogolabError(`${where}: malformed VOC: <object> #${objects.length} has no <name>`);
    const bb = child(o, 'bndbox');
    if (!bb) throw new LogolabError(`${where}: malformed VOC: <object> #${objects.length} (${name}) has no <bndbox>`);
    objects.push({
      name,
      box: [num(childText(bb, 'xmin')), num(childText(bb, 'ymin')), num(childText(bb, 'xmax')), num(childText(bb, 'ymax'))],
      difficult: childText(o, 'difficult') === '1',
      truncated: childText(o, 'truncated') === '1',
    });
  }
  const opt = (s: string | undefined) => (s === undefined || s === '' ? null : num(s));
  return {
    filename: childText(root, 'filename') ?? null,
    width: size ? opt(childText(size, 'width')) : null,
    height: size ? opt(childText(size, 'height')) : null,
    depth: size ? opt(childText(size, 'depth')) : null,
    objects,
  };
}

const esc = escapeXml;

/** Writes VOC XML in the layout LogoDet-3K uses (integer pixel boxes). */
export function writeVoc(a: { folder: string; filename: string; width: number; height: number; depth?: number; objects: { name: string; box: [number, number, number, number]; truncated?: boolean }[] }): string {
  const lines = [
    '<annotation>',
    `\t<folder>${esc(a.folder)}</folder>`,
    `\t<filename>${esc(a.filename)}</filename>`,
    '\t<size>',
    `\t\t<width>${a.width}</width>`,
    `\t\t<height>${a.height}</height>`,
    `\t\t<depth>${a.depth ?? 3}</depth>`,
    '\t</size>',
    '\t<segmented>0</segmented>',
  ];
  for (const o of a.objects) {
    lines.push(
      '\t<object>',
      `\t\t<name>${esc(o.name)}</name>`,
      '\t\t<pose>Unspecified</pose>',
      `\t\t<truncated>${o.truncated ? 1 : 0}</truncated>`,
      '\t\t<difficult>0</difficult>',
      '\t\t<bndbox>',
      `\t\t\t<xmin>${o.box[0]}</xmin>`,
      `\t\t\t<ymin>${o.box[1]}</ymin>`,
      `\t\t\t<xmax>${o.box[2]}</xmax>`,
      `\t\t\t<ymax>${o.box[3]}</ymax>`,
      '\t\t</bndbox>',
      '\t</object>',
    );
  }
  lines.push('</annotation>', '');
  return lines.join('\n');
}
