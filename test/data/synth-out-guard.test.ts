/**
 * `synth --out` over an existing folder: an earlier synth output is replaced only while it holds
 * nothing but synth's files (marker list, or for a folder from before the marker, the exact
 * top-level names synth writes); files a user added, a folder of other data and the working
 * directory are refused with one line naming the folder and what is in the way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { expectFailure, runCli } from '../cli/run.js';
import { synthesize, type SynthOptions } from '../../src/data/synth/writer.js';

const MARKER = '.logolab-output.json';
const small = { brands: 1, seed: 0, imagesPerBrand: 1, negatives: 0, minSide: 64, maxSide: 64, quiet: true } satisfies Omit<SynthOptions, 'out'>;
const cliSmall = ['--brands', '1', '--images-per-brand', '1', '--negatives', '0', '--min-side', '64', '--max-side', '64'];

/** A folder as synth wrote it before the marker existed: the same files, without the marker. */
async function legacySynth(out: string, o: Partial<SynthOptions> = {}): Promise<void> {
  await synthesize({ ...small, ...o, out });
  rmSync(join(out, MARKER));
}

function addUserFiles(out: string): void {
  writeFileSync(join(out, 'NOTES.md'), 'notes\n');
  mkdirSync(join(out, 'my-results'));
  writeFileSync(join(out, 'my-results', 'eval.json'), 'precious\n');
}

function assertUserFilesKept(out: string): void {
  assert.equal(readFileSync(join(out, 'NOTES.md'), 'utf8'), 'notes\n');
  assert.equal(readFileSync(join(out, 'my-results', 'eval.json'), 'utf8'), 'precious\n');
}

test('synth --out: an earlier synth folder holding files synth did not write is refused, the files kept', async () => {
  const root = tmpDir('logolab-synth-guard-');
  for (const [name, make] of [
    ['legacy', (o: string) => legacySynth(o)],
    ['legacy-folders', (o: string) => legacySynth(o, { layout: 'folders', referencesPerBrand: 1 })],
    ['marked', (o: string) => synthesize({ ...small, out: o })],
  ] as const) {
    const out = join(root, name);
    await make(out);
    addUserFiles(out);
    const r = await runCli(['synth', '--out', out, ...cliSmall, '--seed', '1']);
    expectFailure(r, 1, new RegExp(`--out ${out}: an earlier output of \`logolab synth\` that also holds files it did not write \\(NOTES\\.md, my-results\\); refusing to replace it`));
    assertUserFilesKept(out);
    assert.ok(existsSync(join(out, 'synth.json')), `${name}: the earlier output is untouched`);
    // --overwrite is the user's say-so
    await synthesize({ ...small, seed: 1, out, overwrite: true });
    assert.ok(!existsSync(join(out, 'NOTES.md')));
  }
});

test('synth --out: an earlier synth folder with only its own files is replaced (both layouts, with and without marker)', async () => {
  const root = tmpDir('logolab-synth-guard-');
  const cases: [string, () => Promise<void>, Partial<SynthOptions>][] = [
    ['legacy', () => legacySynth(join(root, 'legacy'), { recordRenditions: true }), {}],
    ['legacy-folders', () => legacySynth(join(root, 'legacy-folders'), { layout: 'folders', referencesPerBrand: 1 }), { layout: 'folders', referencesPerBrand: 1 }],
    ['marked', () => synthesize({ ...small, out: join(root, 'marked') }).then(() => undefined), { layout: 'folders', referencesPerBrand: 1 }],
  ];
  for (const [name, make, o] of cases) {
    const out = join(root, name);
    await make();
    await synthesize({ ...small, ...o, seed: 1, out });
    const marker = JSON.parse(readFileSync(join(out, MARKER), 'utf8')) as { command: string; files: string[] };
    assert.equal(marker.command, 'synth');
    // every file, nested ones included
    const below = (rel: string): string[] => readdirSync(join(out, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? below(rel ? `${rel}/${e.name}` : e.name) : [rel ? `${rel}/${e.name}` : e.name]));
    assert.deepEqual(marker.files, below('').filter((f) => f !== MARKER).sort(), name);
  }
});

test('synth --out: a contact sheet inside --out is part of the output (the next run replaces it)', async () => {
  const out = join(tmpDir('logolab-synth-guard-'), 's');
  for (let seed = 0; seed < 2; seed++) await synthesize({ ...small, seed, out, contactSheet: join(out, 'sheet.png') });
  const marker = JSON.parse(readFileSync(join(out, MARKER), 'utf8')) as { files: string[] };
  assert.ok(marker.files.includes('sheet.png') && existsSync(join(out, 'sheet.png')));
  // a folder of a synth from before the marker, which wrote that sheet there after its swap: the
  // same command replaces it (the sheet is synth's own); another sheet name there is not
  rmSync(join(out, MARKER));
  await synthesize({ ...small, seed: 3, out, contactSheet: join(out, 'sheet.png') });
  rmSync(join(out, MARKER));
  await assert.rejects(synthesize({ ...small, seed: 4, out, contactSheet: join(out, 'other.png') }), /holds files it did not write \(sheet\.png\)/);
});

test('synth --out: a file or folder a user put inside one of synth\'s folders is refused, the files kept', async () => {
  const out = join(tmpDir('logolab-synth-guard-'), 's');
  await synthesize({ ...small, out });
  const brandDir = readdirSync(out, { withFileTypes: true }).find((e) => e.isDirectory() && e.name !== 'Negatives')!.name;
  const inner = readdirSync(join(out, brandDir))[0]!;
  writeFileSync(join(out, brandDir, inner, 'notes.txt'), 'mine\n');
  mkdirSync(join(out, brandDir, 'myresults'));
  writeFileSync(join(out, brandDir, 'myresults', 'r.csv'), 'x\n');
  const r = await runCli(['synth', '--out', out, ...cliSmall, '--seed', '1']);
  expectFailure(r, 1, new RegExp(`holds files it did not write \\(${brandDir}/${inner}/notes\\.txt, ${brandDir}/myresults\\)`));
  assert.equal(readFileSync(join(out, brandDir, inner, 'notes.txt'), 'utf8'), 'mine\n');
  assert.equal(readFileSync(join(out, brandDir, 'myresults', 'r.csv'), 'utf8'), 'x\n');
});

test('synth --out: in a folder from before the marker, a --contact-sheet inside a user subfolder does not make that subfolder synth\'s', async () => {
  const out = join(tmpDir('logolab-synth-guard-'), 'leg');
  await legacySynth(out);
  mkdirSync(join(out, 'results'));
  writeFileSync(join(out, 'results', 'keep.txt'), 'user data\n');
  await assert.rejects(synthesize({ ...small, seed: 1, out, contactSheet: join(out, 'results', 'sheet.png') }), /holds files it did not write \(results\)/);
  assert.equal(readFileSync(join(out, 'results', 'keep.txt'), 'utf8'), 'user data\n');
});

test('synth: scene sides and targets per scene are checked, naming the flag', async () => {
  const out = join(tmpDir('logolab-synth-guard-'), 'x');
  expectFailure(await runCli(['synth', '--out', out, '--brands', '1', '--images-per-brand', '1', '--min-side', '40000', '--max-side', '40000']), 2, /--min-side: '40000' is out of range/);
  await assert.rejects(synthesize({ ...small, out, minSide: 600, maxSide: 512 }), /--min-side 600 exceeds --max-side 512/);
  await assert.rejects(synthesize({ ...small, out, minSide: 64, maxSide: 20000 }), /--max-side 20000: a scene side must be an integer in \[64, 4096\] px/);
  await assert.rejects(synthesize({ ...small, brands: 2, out, labelBy: 'shape', targetsPerScene: 500 }), /--targets-per-scene 500: exceeds the \d+ shapes of the selected brands/);
  assert.ok(!existsSync(out));
});

test('synth --out: never the working directory, nor a folder of other data', async () => {
  const root = tmpDir('logolab-synth-guard-');
  const out = join(root, 'cwd');
  await synthesize({ ...small, out });
  writeFileSync(join(out, 'mine.txt'), 'keep\n');
  const was = process.cwd();
  process.chdir(out);
  try {
    // not even with --overwrite: the folder would be swapped out from under the shell
    for (const extra of [[], ['--overwrite']]) {
      const r = await runCli(['synth', '--out', '.', ...cliSmall, ...extra]);
      expectFailure(r, 1, new RegExp(`--out ${process.cwd()}: contains the current working directory; refusing to replace it`));
    }
  } finally {
    process.chdir(was);
  }
  assert.equal(readFileSync(join(out, 'mine.txt'), 'utf8'), 'keep\n');

  const other = join(root, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'a.txt'), 'x\n');
  expectFailure(await runCli(['synth', '--out', other, ...cliSmall]), 1, new RegExp(`--out ${other}: folder is not empty and is not an earlier output of this command; refusing to replace it`));
  assert.deepEqual(readdirSync(other), ['a.txt']);
});
