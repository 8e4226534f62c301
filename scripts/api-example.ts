/**
 * Runnable example of the programmatic API (README "Library API"):
 *   node --import tsx scripts/api-example.ts [model-dir]
 * Builds a tiny Burnley-style folder dataset from real brand logos (set B, unseen by the shipped
 * baseline), averages each brand's reference embeddings, and matches every test image.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogoLab } from '../src/index.js';
import { synthesize } from '../src/data/synth/index.js';

const model = process.argv[2] ?? 'models/logolab-tiny-clip';
const root = mkdtempSync(join(tmpdir(), 'logolab-api-'));
// the synthesized dataset is scratch: removed however the example ends (a failed load included)
try {
  const out = join(root, 'burnley');
  await synthesize({ out, brands: 3, seed: 7, imagesPerBrand: 2, layout: 'folders', brandSet: 'B', minSide: 192, maxSide: 256, quiet: true });

  const ll = await LogoLab.load({ encoder: model });
  try {
    const refDirs = readdirSync(out).filter((d) => d.endsWith('_reference_images'));
    const references: Record<string, Float32Array[]> = {};
    for (const d of refDirs) {
      const files = readdirSync(join(out, d)).map((f) => join(out, d, f));
      references[d.replace(/_reference_images$/, '')] = [await ll.averagedEmbedding(files)];
    }
    const testDir = readdirSync(out).find((d) => d.endsWith('test_images'))!;
    for (const f of readdirSync(join(out, testDir)).sort()) {
      const hits = await ll.detectAndMatch(join(out, testDir, f), references, { method: 'averaged', threshold: 0.5, margin: 0.05 });
      const found = hits.flatMap((h) => h.matches.map((m) => `${m.logo} (${m.similarity.toFixed(3)})`));
      // Whole-image similarities to each brand, for context (ll.compare = cosine).
      const e = await ll.embed(join(out, testDir, f));
      const sims = Object.entries(references).map(([logo, [r]]) => `${logo} ${ll.compare(e, r!).toFixed(3)}`);
      console.log(`${f.padEnd(38)} matched: ${(found.join(', ') || '—').padEnd(24)} similarities: ${sims.join(' | ')}`);
    }
  } finally {
    ll.dispose();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
