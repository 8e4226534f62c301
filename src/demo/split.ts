/**
 * Splits a synth (LogoDet-3K layout) dataset into two disjoint datasets by scene: in every
 * `<Category>/<Brand>/` folder (and `Negatives/none/`), the scenes with an odd index (1.jpg, 3.jpg, …)
 * go to `train`, the even ones to `test`. Both halves keep the same brands, so the demo fine-tunes
 * on crops cut from the train scenes and evaluates on scenes (and reference crops) the fine-tune
 * never saw — the reference evaluated on the crops' own source images.
 *
 * Files are hard-linked (copied when linking fails, e.g. across devices); each half is written
 * atomically (withAtomicDir), so an interrupted split leaves no half-written folder.
 */
import { copyFileSync, existsSync, linkSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../errors.js';
import { withAtomicDir } from '../io/atomic.js';
import { mkdirp } from '../io/mkdirp.js';

export interface SplitSummary {
  train: { scenes: number; brands: number };
  test: { scenes: number; brands: number };
}

const subdirs = (d: string): string[] =>
  readdirSync(d)
    .filter((n) => !n.startsWith('.') && statSync(join(d, n)).isDirectory())
    .sort();

/** Which half a scene file (`<index>.jpg|.xml`) goes to; null for files that are not scenes. */
export function sceneHalf(file: string): 'train' | 'test' | null {
  const m = /^(\d+)\.(jpg|jpeg|png|xml)$/i.exec(file);
  if (!m) return null;
  return Number(m[1]) % 2 === 1 ? 'train' : 'test';
}

function place(src: string, dst: string): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

export async function splitSynthScenes(srcDir: string, trainDir: string, testDir: string): Promise<SplitSummary> {
  if (!existsSync(join(srcDir, 'synth.json'))) throw new LogolabError(`${srcDir}: not a synth output (no synth.json)`);
  const sum: SplitSummary = { train: { scenes: 0, brands: 0 }, test: { scenes: 0, brands: 0 } };
  const build = (half: 'train' | 'test') => (tmp: string) => {
    const seen = new Set<string>();
    for (const cat of subdirs(srcDir)) {
      for (const brand of subdirs(join(srcDir, cat))) {
        const from = join(srcDir, cat, brand);
        const files = readdirSync(from).filter((f) => sceneHalf(f) === half).sort();
        if (files.length === 0) continue;
        const to = join(tmp, cat, brand);
        mkdirp(to);
        for (const f of files) place(join(from, f), join(to, f));
        sum[half].scenes += files.filter((f) => f.toLowerCase().endsWith('.xml')).length;
        if (cat !== 'Negatives') seen.add(brand);
      }
    }
    sum[half].brands = seen.size;
    place(join(srcDir, 'synth.json'), join(tmp, 'synth.json'));
  };
  await withAtomicDir(trainDir, build('train'));
  await withAtomicDir(testDir, build('test'));
  if (sum.train.scenes === 0 || sum.test.scenes === 0) throw new LogolabError(`${srcDir}: too few scenes to split (train ${sum.train.scenes}, test ${sum.test.scenes})`);
  return sum;
}
