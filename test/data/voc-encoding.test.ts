/** VOC XML bytes are read in the encoding they declare (BOM, UTF-16 by its first bytes, encoding="…"). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { decodeXml, parseVoc } from '../../src/data/voc.js';
import { prepareDataset } from '../../src/data/prepare.js';

process.env.LOGOLAB_QUIET = '1';

const xml = (decl: string) => `${decl}<annotation><filename>1.png</filename><object><name>Nestlé</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>60</xmax><ymax>50</ymax></bndbox></object></annotation>`;
const utf16be = (s: string) => Buffer.from(s, 'utf16le').swap16();

test('decodeXml: declared latin-1, UTF-16 with and without a BOM, UTF-8 with a BOM', () => {
  const name = (b: Uint8Array) => parseVoc(decodeXml(b, 'x.xml'), 'x.xml').objects[0]!.name;
  assert.equal(name(Buffer.from(xml('<?xml version="1.0" encoding="ISO-8859-1"?>'), 'latin1')), 'Nestlé');
  assert.equal(name(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml('<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')])), 'Nestlé');
  assert.equal(name(Buffer.from(xml('<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')), 'Nestlé');
  assert.equal(name(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(xml('<?xml version="1.0"?>'))])), 'Nestlé');
  assert.equal(name(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml('<?xml version="1.0"?>'))])), 'Nestlé');
  assert.equal(name(Buffer.from(xml(''))), 'Nestlé');
});

test('decodeXml: bytes invalid in the encoding, or an unknown encoding, are errors naming the file', () => {
  assert.throws(() => decodeXml(Buffer.from(xml(''), 'latin1'), 'a/1.xml'), /^LogolabError: a\/1\.xml: not valid utf-8 \(a file in another encoding must declare it/);
  assert.throws(() => decodeXml(Buffer.from(xml('<?xml version="1.0" encoding="x-klingon"?>')), 'a/1.xml'), /a\/1\.xml: declares encoding 'x-klingon', which this runtime cannot decode/);
});

test('prepare: a latin-1 XML names its logo; an undeclared one is skipped as malformed, naming the file', async () => {
  const root = tmpDir('logolab-xmlenc-');
  const ds = join(root, 'ds');
  for (const b of ['Nestlé', 'other']) mkdirSync(join(ds, 'C', b), { recursive: true });
  // three colours: byte copies would be skipped as duplicate_image
  for (const [i, [b, stem]] of [['Nestlé', '1'], ['other', '1'], ['other', '2']].entries()) await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 200, g: 20 + 40 * i, b: 20 } } }).png().toFile(join(ds, 'C', b!, `${stem}.png`));
  writeFileSync(join(ds, 'C', 'Nestlé', '1.xml'), xml(''));
  writeFileSync(join(ds, 'C', 'other', '1.xml'), Buffer.from(xml('<?xml version="1.0" encoding="ISO-8859-1"?>'), 'latin1'));
  writeFileSync(join(ds, 'C', 'other', '2.xml'), Buffer.from(xml(''), 'latin1'));
  const s = await prepareDataset({ dataset: ds, out: join(root, 'out'), quiet: true });
  assert.deepEqual(s.skipped, { malformed_xml: 1 });
  assert.equal(s.objects, 2);
  // the latin-1 object in other/ is Nestlé's (a crop under Nestlé's folder), not other's
  assert.equal(s.totals.logos, 1);
});
