/**
 * Interrupted runs leave no temp data behind for good (review runtime, findings 2, 4 and 6c):
 *  - `synth` / the demo's split (withAtomicDir): a killed writer's hidden partial folder
 *    `.name.<pid>.<n>.tmp` is removed by the next write of the same target — only our names, only
 *    dead pids;
 *  - `compare --candidate x.ckpt`: the merged model in $TMPDIR is removed on SIGINT, and a folder
 *    of a compare killed outright (SIGKILL) is removed by the next one;
 *  - `compare`: a failed report write leaves the earlier report.json/md/html set whole.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliProcess, expectFailure, expectOk, snapshot, expectUnchanged, withFsFault } from './harness.js';
import { BACKEND, baseModel, dataDir, loraRun, ROOT_TMP } from './fixtures.js';
import { removeStaleTemps, withAtomicDir } from '../../src/io/atomic.js';
import { splitSynthScenes } from '../../src/demo/split.js';

/** A pid that certainly belonged to a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

/** The parent (the test runner): a live pid that is not ours. */
const livePid = process.ppid;

function plant(dir: string, content = 'half-written'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'part'), content);
  return dir;
}

describe('interrupted writers leave no temp data for good', () => {
  it('withAtomicDir removes temp folders of dead writers of the same target, nothing else', async () => {
    const base = join(ROOT_TMP, 'atomic-sweep');
    mkdirSync(base, { recursive: true });
    const dead = deadPid();
    const stale = plant(join(base, `.out.${dead}.1.tmp`));
    const live = plant(join(base, `.out.${livePid}.1.tmp`)); // another writer, still running
    const otherTarget = plant(join(base, `.out.5.${dead}.1.tmp`)); // the target `out.5`'s, not `out`'s
    const notOurs = plant(join(base, '.out.notes'));
    await withAtomicDir(join(base, 'out'), (tmp) => writeFileSync(join(tmp, 'x'), '1'));
    assert.ok(!existsSync(stale), 'temp folder of a dead writer removed');
    for (const keep of [live, otherTarget, notOurs]) assert.ok(existsSync(keep), `${keep} kept`);
    assert.equal(readFileSync(join(base, 'out', 'x'), 'utf8'), '1');
  });

  it('withAtomicDir: the old folder a dead writer moved aside is put back when the target is missing, dropped when it is there', async () => {
    const base = join(ROOT_TMP, 'atomic-aside');
    mkdirSync(base, { recursive: true });
    const dead = deadPid();
    // killed between its two renames: the old folder aside, no target
    mkdirSync(join(base, `.out.${dead}.1.old`));
    writeFileSync(join(base, `.out.${dead}.1.old`, 'x'), 'old');
    mkdirSync(join(base, `.out.${dead}.2.tmp`));
    writeFileSync(join(base, `.out.${dead}.2.tmp`, 'x'), 'new, complete or not');
    removeStaleTemps(join(base, 'out'));
    assert.equal(readFileSync(join(base, 'out', 'x'), 'utf8'), 'old', 'the only copy of the old folder is back');
    assert.deepEqual(readdirSync(base).sort(), ['out']);
    // killed after the swap, before removing the old one: dropped
    mkdirSync(join(base, `.out.${dead}.3.old`));
    await withAtomicDir(join(base, 'out'), (tmp) => writeFileSync(join(tmp, 'x'), 'newer'));
    assert.equal(readFileSync(join(base, 'out', 'x'), 'utf8'), 'newer');
    assert.deepEqual(readdirSync(base).sort(), ['out']);
  });

  it('synth: the hidden partial dataset of a synth killed by SIGINT is removed by the next synth', async () => {
    const out = join(ROOT_TMP, 'syn-int');
    const args = ['synth', '--out', out, '--brands', '2', '--min-side', '64', '--max-side', '96', '--seed', '1'];
    let sent = false;
    const r = await cliProcess([...args, '--images-per-brand', '400'], {
      // the first progress line: the temp folder exists and is being filled
      onStderr: (s, kill) => {
        if (!sent && /synth +\d+%/.test(s)) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    assert.ok(sent, `no progress line; stderr:\n${r.stderr}`);
    assert.equal(r.signal, 'SIGINT', `ended by ${r.signal ?? `exit ${r.code}`}; stderr:\n${r.stderr}`);
    const temps = () => readdirSync(ROOT_TMP).filter((f) => f.startsWith('.syn-int.'));
    assert.equal(temps().length, 1, 'the killed synth left its temp folder (the case under test)');
    expectOk(await cli(...args, '--images-per-brand', '2'));
    assert.deepEqual(temps(), [], 'the next synth of the same --out removed it');
    assert.ok(existsSync(join(out, 'synth.json')));
  });

  it("demo split: a killed split's temp halves are removed by the next split (only dead pids)", async () => {
    const src = join(ROOT_TMP, 'syn-split');
    expectOk(await cli('synth', '--out', src, '--brands', '2', '--images-per-brand', '2', '--min-side', '64', '--max-side', '96'));
    const base = join(ROOT_TMP, 'split-out');
    const dead = deadPid();
    const stale = [plant(join(base, `.train.${dead}.1.tmp`)), plant(join(base, `.test.${dead}.2.tmp`))];
    const live = plant(join(base, `.train.${livePid}.3.tmp`));
    await splitSynthScenes(src, join(base, 'train'), join(base, 'test'));
    for (const s of stale) assert.ok(!existsSync(s), `${s} removed`);
    assert.ok(existsSync(live), 'a live writer keeps its temp folder');
  });

  it('compare --candidate x.ckpt: SIGINT while it runs removes the merged model from $TMPDIR', async () => {
    const run = await loraRun();
    const data = await dataDir();
    const base = await baseModel();
    const ours = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('logolab-compare-')));
    const before = ours();
    let seen: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    const r = await cliProcess(['compare', '--data', data, '--baseline', base, '--candidate', run.last, '--report', join(ROOT_TMP, 'rep-int'), '--no-cache', '--batch-size', '1', ...BACKEND], {
      onStderr: (_s, kill) => {
        // once the merged export is complete (its config.json is written), interrupt
        if (timer) return;
        timer = setInterval(() => {
          for (const f of ours()) {
            if (!before.has(f) && existsSync(join(tmpdir(), f, 'model', 'config.json'))) {
              seen = f;
              clearInterval(timer);
              kill('SIGINT');
              return;
            }
          }
        }, 10);
      },
    });
    clearInterval(timer);
    assert.ok(seen, `the run ended before its temp export was seen (exit ${r.code}); stderr:\n${r.stderr}`);
    assert.ok(r.signal === 'SIGINT' || r.code === 130, `ended by ${r.signal ?? `exit ${r.code}`}`);
    assert.ok(!existsSync(join(tmpdir(), seen)), `${seen} was left in ${tmpdir()}`);
  });

  describe('a compare killed outright (SIGKILL): its temp export is removed by the next compare', () => {
    const made: string[] = [];
    after(() => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
    it('only logolab-compare-<dead pid>-XXXXXX folders', async () => {
      const run = await loraRun();
      const mk = (name: string) => {
        plant(join(tmpdir(), name, 'model'), 'merged weights');
        made.push(join(tmpdir(), name));
        return join(tmpdir(), name);
      };
      const stale = mk(`logolab-compare-${deadPid()}-aB3xYz`);
      const live = mk(`logolab-compare-${livePid}-aB3xYz`);
      const unknown = mk('logolab-compare-Qw12Er'); // no pid in the name: cannot be judged, kept
      expectOk(await cli('compare', '--data', await dataDir(), '--baseline', await baseModel(), '--candidate', run.last, '--report', join(ROOT_TMP, 'rep-sweep'), '-n', '2', '--no-cache', ...BACKEND));
      assert.ok(!existsSync(stale), 'the dead run’s merged model was removed');
      assert.ok(existsSync(live) && existsSync(unknown), 'folders of live or unknown runs are kept');
    });
  });

  it('compare: a report write that fails midway leaves the earlier report.json/md/html set whole', async () => {
    const rep = join(ROOT_TMP, 'rep-set');
    const data = await dataDir();
    const base = await baseModel();
    const args = (seed: string) => ['compare', '--data', data, '--baseline', base, '--candidate', base, '--report', rep, '-n', '2', '--no-cache', '--seed', seed, ...BACKEND];
    expectOk(await cli(...args('1')));
    const before = snapshot(rep);
    // the disk fills while report.md is written — after report.json (the old order's first file)
    const r = await withFsFault('ENOSPC', rep, () => cli(...args('2')), 'write', /report\.md/);
    expectFailure(r, 1, /rep-set\/report\.md.*no space left on device/);
    expectUnchanged(before, 'earlier report');
    assert.deepEqual(readdirSync(rep).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  });
});
