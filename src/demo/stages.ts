/**
 * Stage orchestration with resume: each finished stage writes `<out>/stages/<n>-<name>.json`
 * atomically (writeJsonAtomic) with its result; a re-run skips stages whose marker exists, so an
 * interrupted demo continues where it stopped (training itself resumes from its last checkpoint,
 * see demo command). Stages run `logolab` sub-commands as child processes (node bin/logolab.mjs),
 * whose own progress bars go straight to stderr; the demo prints a header per stage with elapsed time.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, createWriteStream, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream';
import { LogolabError } from '../errors.js';
import { removeStaleTemps, tempPathFor, writeJsonAtomic } from '../io/atomic.js';
import { signalExitCode } from '../util/process.js';
import { formatDuration } from '../util/progress.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { mkdirp } from '../io/mkdirp.js';

// the package folder (a checkout, or dist/'s parent when installed): holds bin/ and the configs
export const REPO_ROOT = PACKAGE_ROOT;
export const BIN = join(REPO_ROOT, 'bin', 'logolab.mjs');

export interface StageRecord<T = unknown> {
  stage: string;
  seconds: number;
  finished: string;
  result: T;
}

export class StageRunner {
  private readonly dir: string;
  private index = 0;
  readonly timings: { stage: string; seconds: number; resumed: boolean }[] = [];
  private readonly t0 = Date.now();

  constructor(
    readonly out: string,
    readonly total: number,
    private readonly say: (msg: string) => void = (m) => process.stderr.write(`[demo] ${m}\n`),
  ) {
    this.dir = join(out, 'stages');
    mkdirp(this.dir);
  }

  markerPath(name: string, index: number): string {
    return join(this.dir, `${String(index).padStart(2, '0')}-${name}.json`);
  }

  /** Runs `fn` unless its marker exists; returns the (recorded) result. */
  async stage<T>(name: string, describe: string, fn: () => Promise<T>): Promise<T> {
    const i = ++this.index;
    const marker = this.markerPath(name, i);
    const head = `stage ${i}/${this.total} ${name}`;
    if (existsSync(marker)) {
      const rec = JSON.parse(readFileSync(marker, 'utf8')) as StageRecord<T>;
      this.say(`${head}: done in an earlier run (${formatDuration(rec.seconds)}), skipped`);
      this.timings.push({ stage: name, seconds: rec.seconds, resumed: true });
      return rec.result;
    }
    this.say(`${head}: ${describe}  [demo elapsed ${formatDuration((Date.now() - this.t0) / 1000)}]`);
    const s = Date.now();
    const result = await fn();
    const seconds = (Date.now() - s) / 1000;
    writeJsonAtomic(marker, { stage: name, seconds: +seconds.toFixed(1), finished: new Date().toISOString(), result } satisfies StageRecord<T>);
    this.timings.push({ stage: name, seconds, resumed: false });
    this.say(`${head}: finished in ${formatDuration(seconds)}`);
    return result;
  }

  elapsed(): number {
    return (Date.now() - this.t0) / 1000;
  }
}

/**
 * Runs `node bin/logolab.mjs <args>`; stderr (progress) is passed through, stdout is captured
 * (and also written to `stdoutFile` when given). A non-zero exit is a LogolabError naming the command.
 *
 * Signals: the child runs in its own session (detached), so a terminal's Ctrl-C reaches only the
 * demo, and the demo passes every SIGINT/SIGTERM/SIGHUP it gets to the child exactly once (a
 * `kill <demo pid>` or a scheduler's SIGTERM reaches the child too, instead of leaving it running
 * as an orphan; a training child sees one signal and saves a checkpoint, two stop it at once). The
 * demo then waits for the child to end and exits 128 + the signal (130/143), so the work folder is
 * consistent when the prompt returns and a re-run resumes.
 *
 * `stdoutFile` is written under a temp name and renamed only when the command succeeds: an
 * interrupted stage never leaves an empty or partial file under the final name.
 */
export function runLogolab(args: string[], opts: { stdoutFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((res, rej) => {
    // temp names of this file that a killed demo left (their pid is gone)
    if (opts.stdoutFile) removeStaleTemps(opts.stdoutFile);
    const tmp = opts.stdoutFile ? tempPathFor(opts.stdoutFile) : null;
    // the child gets this process's env, which carries the demo's effective log level: the CLI
    // (cli/main.ts) puts a given --log-level into $LOGOLAB_LOG_LEVEL for the command's duration
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...opts.env }, detached: true });
    let stopSignal: NodeJS.Signals | null = null;
    const forward = (sig: NodeJS.Signals) => {
      if (!stopSignal) {
        stopSignal = sig;
        process.stderr.write(`[demo] ${sig}: passed to logolab ${args[0]}; waiting for it to stop\n`);
      }
      try {
        child.kill(sig);
      } catch {
        // already gone: its close event follows
      }
    };
    for (const s of FORWARDED) process.on(s, forward);
    const unhook = () => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    const chunks: Buffer[] = [];
    const file = tmp ? createWriteStream(tmp) : null;
    // an error of the file (a full disk) is reported when the child has ended (finished() below)
    file?.on('error', () => {});
    child.stdout.on('data', (b: Buffer) => {
      chunks.push(b);
      file?.write(b);
    });
    child.on('error', (e) => {
      unhook();
      file?.destroy();
      if (tmp) rmSync(tmp, { force: true });
      rej(new LogolabError(`cannot start logolab ${args[0]}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      unhook();
      let settled = false;
      const done = (err: Error | null | undefined) => {
        if (settled) return;
        settled = true;
        if (stopSignal) {
          if (tmp) rmSync(tmp, { force: true });
          rej(new DemoInterrupted(stopSignal, `logolab ${args[0]} ${signal ? `ended by ${signal}` : `exited ${code}`}`));
          return;
        }
        const out = Buffer.concat(chunks).toString('utf8');
        if (code === 0 && !err) {
          if (tmp) renameSync(tmp, opts.stdoutFile!);
          res(out);
          return;
        }
        if (tmp) rmSync(tmp, { force: true });
        if (err) rej(err);
        else rej(new LogolabError(`logolab ${args[0]} failed (${signal ? `signal ${signal}` : `exit ${code}`}); command: logolab ${args.join(' ')}`));
      };
      // the file is complete ('finish') or failed: either way once, also when it failed earlier
      if (file) finished(file.end(), done);
      else done(null);
    });
  });
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The demo got a signal and passed it to its stage process, which has now ended. */
export class DemoInterrupted extends Error {
  /** 128 + the signal: the status the demo exits with (130 SIGINT, 143 SIGTERM) */
  readonly exitCode: number;
  constructor(
    readonly signal: NodeJS.Signals,
    readonly child: string,
  ) {
    super(`stopped by ${signal} (${child})`);
    this.exitCode = signalExitCode(signal);
  }
}
