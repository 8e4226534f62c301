/**
 * prepare (LogoDet-3K layout) records each corrupt image's own reason, the same on every run:
 * decoded concurrently, libvips' one error buffer used to give a JPEG a PNG's text or "Unknown
 * error", different from run to run (a resumed run must record the same detail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, extname, join } from 'node:path';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpDir } from '../helpers.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { openDataDb } from '../../src/data/db.js';
import { writeVoc } from '../../src/data/voc.js';
import { IMAGE_EXTS } from '../../src/data/logodet-layout.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { corruptImages } from '../preprocess/corrupt-images.js';

test('corrupt_image details are each file\'s own reason, as decoded alone, on every run', async () => {
  const root = tmpDir('logolab-prepdecerr-');
  const { bad } = await corruptImages(join(root, 'src'));
  const brand = join(root, 'ds', 'C', 'B');
  mkdirSync(brand, { recursive: true });
  // each kind three times, interleaved, so that several fail at once
  const expected: string[] = [];
  for (let copy = 0; copy < 3; copy++) {
    for (const p of bad.filter((f) => IMAGE_EXTS.includes(extname(f)))) {
      // one stem per file: 0-trunc.jpg and 0-trunc.png would share 0-trunc.xml
      const name = `${copy}-${basename(p).replace('.', '-')}${extname(p)}`;
      const file = join(brand, name);
      copyFileSync(p, file);
      writeFileSync(join(brand, name.replace(/\.\w+$/, '.xml')), writeVoc({ folder: 'B', filename: name, width: 64, height: 48, objects: [{ name: 'B', box: [4, 4, 40, 40] }] }));
      const alone = await decodeImage(file).then(() => 'decoded', (e: Error) => e.message);
      assert.ok(alone.startsWith(`cannot decode image ${file}: `), alone);
      expected.push(alone.replace(/^cannot decode image /, ''));
    }
  }
  for (let run = 0; run < 3; run++) {
    const out = join(root, `out${run}`);
    await prepareDataset({ dataset: join(root, 'ds'), out, quiet: true, concurrency: 4 });
    const db = openDataDb(out);
    try {
      const rows = db.db.prepare('SELECT kind, detail FROM skipped ORDER BY detail').all() as { kind: string; detail: string }[];
      assert.deepEqual(rows, [...expected].sort().map((detail) => ({ kind: 'corrupt_image', detail })), `run ${run}`);
    } finally {
      db.close();
    }
  }
});
