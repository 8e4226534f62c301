import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonFile, readJsonObject } from '../../src/util/json.js';
import { l2normalize } from '../../src/util/vector.js';
import { escapeXml } from '../../src/util/xml.js';

test('readJsonFile / readJsonObject: one LogolabError naming the path for each fault', () => {
  const d = mkdtempSync(join(tmpdir(), 'logolab-json-'));
  try {
    const p = (name: string, text: string) => (writeFileSync(join(d, name), text), join(d, name));
    assert.deepEqual(readJsonObject(p('ok.json', '{"a": 1}')), { a: 1 });
    assert.deepEqual(readJsonFile(p('arr.json', '[1]')), [1]);
    assert.throws(() => readJsonFile(join(d, 'missing.json')), (e: Error) => e.name === 'LogolabError' && /missing\.json: cannot read \(ENOENT\)/.test(e.message));
    assert.throws(() => readJsonFile(p('bad.json', '{a')), (e: Error) => e.name === 'LogolabError' && /bad\.json: invalid JSON \(/.test(e.message) && !e.message.includes('\n'));
    assert.throws(() => readJsonObject(join(d, 'arr.json')), /arr\.json: must be a JSON object/);
    assert.throws(() => readJsonObject(p('null.json', 'null')), /null\.json: must be a JSON object/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('l2normalize: copy or in place, zero stays zero (F.normalize eps)', () => {
  const v = Float32Array.from([3, 4]);
  assert.deepEqual([...l2normalize(v)], [0.6000000238418579, 0.800000011920929]);
  assert.deepEqual([...v], [3, 4], 'a copy by default');
  assert.equal(l2normalize(v, v), v);
  assert.ok(Math.abs(v[0]! - 0.6) < 1e-7);
  assert.deepEqual([...l2normalize([0, 0, 0])], [0, 0, 0]);
  assert.deepEqual([...l2normalize(Float64Array.from([1e-13, 0]))], [Math.fround(0.1), 0]);
});

test('escapeXml escapes the five XML specials', () => {
  assert.equal(escapeXml(`a&b<c>"d"'e'`), 'a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;');
});
