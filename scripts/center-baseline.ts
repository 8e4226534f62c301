/**
 * Centres the baseline's embeddings on its training crops, inside the weights (training/center.ts):
 *
 *   npx tsx scripts/center-baseline.ts <float32 model folder> <prepared data dir> <new model folder>
 */
import { initBackend } from '../src/backend/index.js';
import { LogolabError } from '../src/errors.js';
import { centreModelFolder } from '../training/center.js';

try {
  const [src, dataDir, out] = process.argv.slice(2);
  if (!src || !dataDir || !out) throw new LogolabError('usage: center-baseline.ts <float32 model folder> <prepared data dir> <new model folder>');
  await initBackend(process.env.LOGOLAB_BACKEND ?? 'auto', { quiet: true });
  const r = await centreModelFolder(src, dataDir, out);
  process.stderr.write(`centre: |mean pooler_output| ${r.meanNorm.toFixed(4)} over ${r.crops} crops, subtracted in ${out}\n`);
} catch (e) {
  if (!(e instanceof LogolabError)) throw e;
  process.stderr.write(`logolab: error: ${e.message}\n`);
  process.exitCode = 1;
}
