/**
 * writeFilesAtomic writes a set of files as one: a target that cannot be replaced (a folder where a
 * report file should be) is an error before anything is renamed, and a rename that fails anyway
 * leaves no temp files behind. withAtomicFile (every single-file output) removes the temp file a
 * killed writer of the same target left, and only that: never a live writer's, never another name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs, { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { tmpDir } from '../helpers.js';
import { LogolabError } from '../../src/errors.js';
import { withAtomicFile, writeFilesAtomic, writeJsonAtomic } from '../../src/io/atomic.js';

const NAMES = ['report.json', 'report.md', 'report.html', '.logolab-output.json'];

/** A folder holding an earlier set ('old <name>'), with report.html replaced by a folder. */
function earlierSet(): string {
  const d = tmpDir('logolab-atomic-');
  for (const n of NAMES) writeFileSync(join(d, n), `old ${n}`);
  return d;
}

test('writeFilesAtomic: a target that is a folder is refused before any rename; the earlier set is intact, no temps left', () => {
  const d = earlierSet();
  fs.rmSync(join(d, 'report.html'));
  mkdirSync(join(d, 'report.html'));
  writeFileSync(join(d, 'report.html', 'keep.txt'), 'mine');
  assert.throws(
    () => writeFilesAtomic(NAMES.map((n) => [join(d, n), `new ${n}`])),
    (e: unknown) => e instanceof LogolabError && !e.message.includes('\n') && e.message.startsWith(`${join(d, 'report.html')}: exists and is a folder; refusing to replace it`),
  );
  for (const n of NAMES.filter((x) => x !== 'report.html')) assert.equal(readFileSync(join(d, n), 'utf8'), `old ${n}`, n);
  assert.equal(readFileSync(join(d, 'report.html', 'keep.txt'), 'utf8'), 'mine');
  assert.deepEqual(readdirSync(d).sort(), [...NAMES].sort());
});

test('writeFilesAtomic: a rename that fails midway removes the temps not yet renamed', () => {
  const d = earlierSet();
  const orig = fs.renameSync;
  let calls = 0;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    calls += 1;
    if (calls === 2) throw Object.assign(new Error(`EACCES: permission denied, rename '${String(from)}' -> '${String(to)}'`), { code: 'EACCES' });
    return orig(from, to);
  }) as typeof fs.renameSync;
  syncBuiltinESMExports();
  try {
    assert.throws(() => writeFilesAtomic(NAMES.map((n) => [join(d, n), `new ${n}`])), /EACCES/);
  } finally {
    fs.renameSync = orig;
    syncBuiltinESMExports();
  }
  assert.equal(calls, 2);
  assert.deepEqual(readdirSync(d).sort(), [...NAMES].sort(), 'no temp files left');
  assert.equal(readFileSync(join(d, 'report.json'), 'utf8'), 'new report.json');
  for (const n of NAMES.slice(1)) assert.equal(readFileSync(join(d, n), 'utf8'), `old ${n}`, n);
});

test('writeFilesAtomic: missing targets and regular files are written', () => {
  const d = earlierSet();
  writeFilesAtomic([...NAMES, 'extra.txt'].map((n) => [join(d, n), `new ${n}`]));
  for (const n of [...NAMES, 'extra.txt']) assert.equal(readFileSync(join(d, n), 'utf8'), `new ${n}`, n);
  assert.deepEqual(readdirSync(d).sort(), [...NAMES, 'extra.txt'].sort());
});

/** A pid that certainly belonged to a process that has ended. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** Runs `fn` with the pid of another process that is alive (a sleeping child) throughout. */
async function withLivePid(fn: (pid: number) => void | Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    await fn(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

test("withAtomicFile: a dead writer's temp of the same target is removed; a live writer's temp and other names stay", async () => {
  const d = tmpDir('logolab-atomic-');
  const out = join(d, 'emb.jsonl');
  const dead = deadPid();
  await withLivePid(async (live) => {
    const stale = `.emb.jsonl.${dead}.1.tmp`;
    const keep = [
      `.emb.jsonl.${live}.1.tmp`, // a concurrent writer, still running
      `.emb.jsonl.5.${dead}.1.tmp`, // the target emb.jsonl.5's temp, not emb.jsonl's
      `.emb.jsonl.${dead}.1.tmp.bak`, // not our pattern
      `.emb.jsonl.${dead}.tmp`, // not our pattern
      `emb.jsonl.${dead}.1.tmp`, // not hidden: not our pattern
      `.other.jsonl.${dead}.1.tmp`, // another target
      'notes.txt',
    ];
    for (const f of [stale, ...keep]) writeFileSync(join(d, f), 'half-written');
    withAtomicFile(out, (fd) => fs.writeSync(fd, 'new\n'));
    assert.equal(readFileSync(out, 'utf8'), 'new\n');
    assert.ok(!existsSync(join(d, stale)), 'the temp of a dead writer is removed');
    assert.deepEqual(readdirSync(d).sort(), [...keep, 'emb.jsonl'].sort());
    for (const f of keep) assert.equal(readFileSync(join(d, f), 'utf8'), 'half-written', f);
  });
});

test('withAtomicFile: the temp a SIGKILLed writer left mid-write is removed by the next write of the same file', async () => {
  const d = tmpDir('logolab-atomic-');
  const out = join(d, 'result.json');
  const atomic = new URL('../../src/io/atomic.ts', import.meta.url).href;
  // a writer that blocks inside its write callback, after some bytes reached the temp file
  const script = `import { writeSync } from 'node:fs';
import { withAtomicFile } from ${JSON.stringify(atomic)};
withAtomicFile(${JSON.stringify(out)}, (fd) => {
  writeSync(fd, 'x'.repeat(1 << 16));
  process.stdout.write('writing\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until killed
});`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (b: Buffer) => b.toString().includes('writing') && res());
    child.on('exit', (c) => rej(new Error(`writer ended (${c}) before writing`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const temps = () => readdirSync(d).filter((f) => f !== 'result.json');
  assert.deepEqual(temps(), [`.result.json.${child.pid}.1.tmp`], 'the killed writer left its temp (the case under test)');
  writeJsonAtomic(out, { ok: true });
  assert.deepEqual(temps(), [], 'the next write removed it');
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { ok: true });
});

test('withAtomicFile: many files written into one folder list it once, not once per file; a stale temp seen then is still removed', () => {
  const d = tmpDir('logolab-atomic-');
  const stale = `.file-7.json.${deadPid()}.1.tmp`;
  writeFileSync(join(d, stale), 'half-written');
  const real = fs.readdirSync;
  let listings = 0;
  fs.readdirSync = ((p: fs.PathLike, ...rest: unknown[]) => {
    if (String(p) === d) listings++;
    return (real as (...a: unknown[]) => unknown)(p, ...rest);
  }) as typeof fs.readdirSync;
  syncBuiltinESMExports();
  try {
    for (let i = 0; i < 50; i++) withAtomicFile(join(d, `file-${i}.json`), (fd) => fs.writeSync(fd, `${i}\n`));
  } finally {
    fs.readdirSync = real;
    syncBuiltinESMExports();
  }
  // one listing for the folder, one more for file-7's own stale temp (removeStaleTemps' exact rule)
  assert.ok(listings <= 2, `the folder was listed ${listings} times for 50 writes`);
  assert.ok(!existsSync(join(d, stale)), 'the dead writer\'s temp of file-7.json is removed');
  assert.equal(readdirSync(d).length, 50);
});
