/** Per-logo thumbnails are looked up by own keys: logos named like Object.prototype members get none. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { makeTinyDataDir, fakeEncoder } from '../eval/tinydata.js';
import { datasetFromDataDir } from '../../src/eval/dataset.js';
import { sampleTest } from '../../src/eval/sample.js';
import { embedSet } from '../../src/eval/pipeline.js';
import { gtBoxes } from '../../src/eval/proposals.js';
import { similaritySet } from '../../src/eval/evaluate.js';
import { compareModels } from '../../src/report/compare.js';
import { renderHtml, renderMarkdown } from '../../src/report/render.js';

process.env.LOGOLAB_QUIET = '1';

test('renderHtml: a logo named constructor or toString gets no <img> of a function', async () => {
  const data = join(tmpDir('logolab-render-'), 'data');
  await makeTinyDataDir(data, { perLogo: 3, negatives: 1 });
  const s = sampleTest(datasetFromDataDir(data), { numLogos: 3, refsPerLogo: 1, positiveSamples: 2, negativeSamples: 1, seed: 2 });
  const side = async (label: string) => ({ label, name: label, prepared: similaritySet(await embedSet(fakeEncoder(label, label), gtBoxes, s.refs, s.images, s.logos, { quiet: true })) });
  const d = compareModels([await side('baseline'), await side('candidate')], { method: 'simple', threshold: 0.7, margin: 0, minMatchingRefs: 1, aggregation: 'max' }, [0.5, 0.7], 'logos', { detector: 'gt-boxes', seed: 2, refsPerLogo: 1, positiveSamples: 2, negativeSamples: 1 });
  const [a, b, c] = d.perLogo;
  a!.logo = 'constructor';
  b!.logo = 'toString';
  d.thumbnails = { [c!.logo]: 'data:image/jpeg;base64,AAAA' };
  const html = renderHtml(d);
  assert.doesNotMatch(html, /function|native code/);
  assert.match(html, /<img src="data:image\/jpeg;base64,AAAA"/);
  assert.equal((html.match(/<img /g) ?? []).length, 1);
});

test('report.md and report.html: per-logo differences carry one minus sign (−) as the verdict does, the same threshold note, and each side\'s backend', async () => {
  const data = join(tmpDir('logolab-render-'), 'data');
  await makeTinyDataDir(data, { perLogo: 3, negatives: 1 });
  const s = sampleTest(datasetFromDataDir(data), { numLogos: 3, refsPerLogo: 1, positiveSamples: 2, negativeSamples: 1, seed: 2 });
  const side = async (label: string) => ({ label, name: label, prepared: similaritySet(await embedSet(fakeEncoder(label, label), gtBoxes, s.refs, s.images, s.logos, { quiet: true })) });
  const d = compareModels([await side('baseline'), await side('candidate')], { method: 'simple', threshold: 0.7, margin: 0, minMatchingRefs: 1, aggregation: 'max' }, [0.5, 0.7], 'logos', { detector: 'gt-boxes', seed: 2, refsPerLogo: 1, positiveSamples: 2, negativeSamples: 1 });
  d.perLogo[0]!.delta = -0.125;
  d.perLogo[1]!.delta = 0.25;
  d.models[0]!.backends = ['cpu (native kernels: OpenBLAS ×2 threads)'];
  d.models[1]!.backends = [];
  for (const out of [renderHtml(d), renderMarkdown(d)]) {
    assert.match(out, /baseline: baseline \(backend: cpu \(native kernels: OpenBLAS ×2 threads\)\)/);
    assert.match(out, /candidate: candidate \(backend: not recorded \(an embeddings file of an older logolab\)\)/);
    assert.match(out, /−12\.5/);
    assert.match(out, /\+25\.0/);
    assert.doesNotMatch(out, /-12\.5/);
    assert.match(out, /(?:"|&quot;)calibrated(?:"|&quot;) \(compare --calibrate\) = each model/);
    assert.doesNotMatch(out, /eval --calibrate/);
  }
});
