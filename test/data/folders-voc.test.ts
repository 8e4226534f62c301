import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { expectedLogosFromFilename, readFolderDataset } from '../../src/data/folders.js';
import { parseVoc, parseXml, writeVoc } from '../../src/data/voc.js';

test('filename prefix ground truth (reference get_expected_logos, generalised)', () => {
  const k = ['barnfield', 'vertu'];
  assert.deepEqual(expectedLogosFromFilename('barnfield+vertu_001.jpg', k), ['barnfield', 'vertu']);
  assert.deepEqual(expectedLogosFromFilename('Barnfield_12.JPG', k), ['barnfield']);
  assert.deepEqual(expectedLogosFromFilename('vertu_x.png', k), ['vertu']);
  assert.deepEqual(expectedLogosFromFilename('vertu+barnfield_1.jpg', k), ['barnfield', 'vertu']);
  assert.deepEqual(expectedLogosFromFilename('crowd_shot.jpg', k), []);
  assert.deepEqual(expectedLogosFromFilename('vertu.jpg', k), [], 'no _ after the prefix');
  assert.deepEqual(expectedLogosFromFilename('vertu+other_1.jpg', k), [], 'unknown name in the prefix');
  assert.deepEqual(expectedLogosFromFilename('coca_cola+vertu_7.jpg', ['coca_cola', 'coca', 'vertu']), ['coca_cola', 'vertu']);
});

test('readFolderDataset: references per logo, test images, clear errors', () => {
  const r = tmpDir('logolab-folders-');
  for (const l of ['barnfield', 'vertu']) {
    mkdirSync(join(r, `${l}_reference_images`));
    writeFileSync(join(r, `${l}_reference_images`, 'b.png'), 'x');
    writeFileSync(join(r, `${l}_reference_images`, 'a.jpg'), 'x');
    writeFileSync(join(r, `${l}_reference_images`, 'notes.txt'), 'x');
  }
  assert.throws(() => readFolderDataset(r), /exactly one test_images .*found none/);
  mkdirSync(join(r, 'burnley_test_images'));
  for (const f of ['barnfield+vertu_1.jpg', 'vertu_2.jpg', 'crowd.jpg']) writeFileSync(join(r, 'burnley_test_images', f), 'x');
  const d = readFolderDataset(r);
  assert.deepEqual(d.logos.map((l) => [l.name, l.references.map((p) => p.slice(p.lastIndexOf('/') + 1))]), [
    ['barnfield', ['a.jpg', 'b.png']],
    ['vertu', ['a.jpg', 'b.png']],
  ]);
  assert.deepEqual(d.testImages.map((t) => [t.file, t.expected]), [
    ['barnfield+vertu_1.jpg', ['barnfield', 'vertu']],
    ['crowd.jpg', []],
    ['vertu_2.jpg', ['vertu']],
  ]);
  assert.throws(() => readFolderDataset(join(r, 'nope')), /not a folder/);
});

test('VOC: parse, round-trip, malformed documents are errors naming the file', () => {
  const xml = writeVoc({ folder: 'nike', filename: '1.jpg', width: 300, height: 200, objects: [{ name: 'nike & co', box: [1, 2, 30, 40] }, { name: 'adidas', box: [5, 6, 7, 8], truncated: true }] });
  const a = parseVoc(xml, 'x.xml');
  assert.deepEqual([a.filename, a.width, a.height, a.depth], ['1.jpg', 300, 200, 3]);
  assert.deepEqual(a.objects.map((o) => [o.name, o.box, o.truncated]), [
    ['nike & co', [1, 2, 30, 40], false],
    ['adidas', [5, 6, 7, 8], true],
  ]);
  assert.ok(Number.isNaN(parseVoc('<annotation><object><name>a</name><bndbox><xmin>x</xmin></bndbox></object></annotation>').objects[0]!.box[0]));
  for (const [bad, re] of [
    [xml.slice(0, 100), /f\.xml: malformed XML at line \d+: unterminated tag/],
    [xml.slice(0, 101).replace(/<[^>]*$/, ""), /f\.xml: malformed XML .*unclosed/],
    ['<annotation><a></b></annotation>', /does not match/],
    ['<annotation>', /unclosed <annotation>/],
    ['<root/>', /root element is <root>/],
    ['<annotation><object><bndbox/></object></annotation>', /has no <name>/],
    ['<annotation><object><name>a</name></object></annotation>', /has no <bndbox>/],
    ['<annotation>a & b</annotation>', /bare '&'/],
    ['', /no root element/],
  ] as const)
    assert.throws(() => parseVoc(bad, 'f.xml'), re, bad);
  assert.equal(parseXml('<?xml version="1.0"?><!-- c --><a x="1"><b>t<![CDATA[<x>]]></b></a>').children[0]!.text, 't<x>');
  assert.equal(parseXml('\ufeff<a>&#65;&#x42;&amp;&lt;007</a>').text, 'AB&<007', 'entities decoded, values stay strings');
  assert.throws(() => parseXml('<a/><b/>', 'f.xml'), /f\.xml: malformed XML: more than one root element/);
  assert.throws(() => parseXml('<a x=1/>', 'f.xml'), /f\.xml: malformed XML at line 1: Attribute 'x' is without value/);
});
