/**
 * scripts/find-set-aliases.ts renders drawings with render.ts's sizing (sizedSvg: the longer side
 * given, the other by the aspect, ≥ 4 px), and writes its out folder whole or not at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rasterize, sizedSvg } from '../../../src/data/synth/render.js';
import type { Rendition } from '../../../src/data/synth/sources.js';
import { mapsOf } from '../../../scripts/find-set-aliases.js';
import { ROOT, tmpDir } from '../../helpers.js';

const rendition = (aspect: number, body: string): Rendition => ({
  id: `t:${aspect}`, pack: 'logos', style: 'colour', aspect, plated: false, form: 'icon',
  svg: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${100 * aspect} 100">${body}</svg>`,
});
const wide = rendition(2, '<rect x="0" y="0" width="200" height="100" fill="#000"/>');

test('sizedSvg: longer side as given, the other by the aspect (≥ 4 px); xlink declared where used', async () => {
  assert.match(sizedSvg(wide, 48), /^<svg width="48" height="24" preserveAspectRatio="none" xmlns=/);
  assert.match(sizedSvg(rendition(0.5, ''), 48), /^<svg width="24" height="48" /);
  assert.match(sizedSvg(rendition(0.05, ''), 48), /^<svg width="4" height="48" /);
  const x = sizedSvg(rendition(1, '<use xlink:href="#a"/>'), 24);
  assert.match(x, /^<svg xmlns:xlink="http:\/\/www\.w3\.org\/1999\/xlink" width="24" height="24" /);
  // the scene renderer's raster is that size
  const r = await rasterize('wide', wide, 48);
  assert.deepEqual([r.width, r.height], [48, 24]);
});

test("find-set-aliases: a drawing's ink box keeps its aspect through the shared sizing", async () => {
  const { aspect, maps } = await mapsOf(wide);
  assert.ok(Math.abs(aspect - 2) < 0.05, `aspect ${aspect}`);
  assert.equal(maps.length, 2);
});

test('find-set-aliases: an existing out folder is refused before any work', () => {
  const dir = tmpDir('logolab-aliases-');
  try {
    const out = join(dir, 'out');
    mkdirSync(out);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/find-set-aliases.ts'), out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `find-set-aliases: ${out}: exists; give a new folder\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
