/**
 * `logolab demo [--out runs/demo] [--quick]`: the whole job on held-out brands, no download:
 *   synth brand set B (brands the shipped baseline never saw: no set-A slug, no set-A logo under another name) → split scenes train/test →
 *   prepare both → eval the shipped baseline (models/logolab-tiny-clip) on the test scenes →
 *   LoRA fine-tune on the train scenes' crops (image-level split) → export (hf, merged) →
 *   compare baseline vs fine-tuned on the test scenes → side-by-side table + report path.
 * Re-running with the same --out resumes: finished stages are skipped (atomic markers in
 * <out>/stages/), training continues from <out>/checkpoints/last.ckpt. A re-run with another mode,
 * baseline, seed or backend is refused (demo_plan.json records them), never mixed into the run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { LogolabError, UsageError } from '../../src/errors.js';
import { COUNT, numberOption } from '../options.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { log } from '../../src/util/log.js';
import { makePidTempDir } from '../../src/util/process.js';
import { formatDuration } from '../../src/util/progress.js';
import { BASELINE_MODEL, DEMO_MODES, demoPlan, type DemoMode } from '../../src/demo/plan.js';
import { checkEarlierPlan, type PlanRecord } from '../../src/demo/plan-record.js';
import { splitSynthScenes } from '../../src/demo/split.js';
import { BIN, DemoInterrupted, REPO_ROOT, StageRunner, runLogolab } from '../../src/demo/stages.js';
import { formatComparison, readComparison } from '../../src/demo/table.js';

/** The last top-level JSON object printed on stdout (train/export print one). */
function lastJson(stdout: string, what: string): Record<string, unknown> {
  const i = stdout.lastIndexOf('\n{');
  const text = stdout.slice(i >= 0 ? i + 1 : stdout.indexOf('{'));
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new LogolabError(`${what}: no JSON result on stdout`);
  }
}

/**
 * The backend asked for (--backend, else LOGOLAB_BACKEND, which the child inherits) started and
 * checked in a child process; its one error line becomes this command's. Returns the backend it
 * started (the one asked for, or auto's pick) and whether cpu's native kernels served it.
 */
function probeBackend(flag: string | undefined): { backend: string; native_kernels: boolean } {
  const tmp = makePidTempDir('logolab-demo-probe-');
  try {
    const json = join(tmp.dir, 'selftest.json');
    const r = spawnSync(process.execPath, [BIN, 'doctor', '--selftest', '--checks', 'losses', '--json', json, ...(flag !== undefined ? ['--backend', flag] : [])], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (r.status === 0 && existsSync(json)) {
      const j = JSON.parse(readFileSync(json, 'utf8')) as { backend: string; native_kernels: boolean };
      return { backend: j.backend, native_kernels: j.native_kernels };
    }
    const line = (r.stderr ?? '').split('\n').find((l) => l.startsWith('logolab: ')) ?? `the backend check (logolab doctor --selftest --checks losses) failed: ${r.error?.message ?? (r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.status}`}`;
    throw new LogolabError(line.replace(/^logolab: (usage )?error: /, ''));
  } finally {
    tmp.remove();
  }
}

export const command: CommandModule = {
  command: 'demo',
  describe: 'synthesize held-out brands → evaluate the shipped baseline → LoRA fine-tune → export → compare (resumable)',
  builder: (y) =>
    y
      .option('out', { type: 'string', default: 'runs/demo', describe: 'work folder (re-run with the same folder to resume)' })
      .option('quick', { type: 'boolean', default: false, describe: 'smaller data and training (about 1–2 min on 2 cores; the default run about 4 min)' })
      .option('mode', { type: 'string', choices: DEMO_MODES as unknown as string[], describe: 'default | quick | tiny (tiny: the test suite\'s < 1 min run)' })
      .option('baseline', { type: 'string', describe: `baseline model folder (default: the shipped ${BASELINE_MODEL})` })
      .option('synth-seed', numberOption('synth-seed', COUNT("another held-out sample of set B (other brands, other scenes): tune the demo's settings on it, never on the default sample's test half"))),
  handler: async (argv) => {
    try {
      await runDemo(argv);
    } catch (e) {
      // a signal passed to the running stage, which has stopped (a training stage after saving its
      // checkpoint): no error line, the signal's exit status; a re-run resumes
      if (!(e instanceof DemoInterrupted)) throw e;
      process.stderr.write(`[demo] ${e.message}; re-run the demo with the same --out to resume\n`);
      process.exitCode = e.exitCode;
    }
  },
};

async function runDemo(argv: Record<string, unknown>): Promise<void> {
  if (argv.quick && argv.mode !== undefined && argv.mode !== 'quick') throw new UsageError(`--quick and --mode ${argv.mode as string}: two different modes; give one`);
  const mode = ((argv.mode as string | undefined) ?? (argv.quick ? 'quick' : 'default')) as DemoMode;
  const plan = demoPlan(mode);
  // checked as typed by numberOption (an integer ≥ 0)
  if (argv['synth-seed'] !== undefined) plan.synth.seed = argv['synth-seed'] as number;
  const out = resolve(argv.out as string);
  // a folder the user names is relative to where they are; only the shipped default lives in the package
  const baseline = argv.baseline !== undefined ? resolve(argv.baseline as string) : resolve(REPO_ROOT, BASELINE_MODEL);
  if (!existsSync(join(baseline, 'config.json'))) throw new LogolabError(`baseline ${baseline}: no config.json (the shipped model is built by scripts/train-baseline.sh)`);
  // auto = cpu + native OpenBLAS kernels where they built (≈3× wasm for training on 2 cores), else wasm
  const backend = (argv.backend as string | undefined) ?? process.env.LOGOLAB_BACKEND ?? 'auto';
  const be = ['--backend', backend];
  // checked here, not by the first stage that uses it (eval-baseline, after minutes of synth and
  // prepare, then a second error line from the demo); auto: which backend it picks, recorded in the
  // plan. In a child (the loss checks of `doctor --selftest`, about a second): started in this
  // process, a GPU backend would hold its device beside every stage for the whole run
  const { backend: resolved, native_kernels } = probeBackend(argv.backend as string | undefined);
  const planFile = join(out, 'demo_plan.json');
  // the demo writes (and replaces) sub-folders of --out: only in an empty folder or its own earlier run
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(planFile)) throw new LogolabError(`--out ${argv.out as string}: folder is not empty and holds no demo run (no demo_plan.json); choose another folder`);
  // the plan names files; their contents are part of the run too (a re-trained baseline or an edited
  // config must not resume into a half-old run)
  const sha = (f: string) => (existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex').slice(0, 16) : null);
  // `out` too: the stage records name files by absolute path, so a copied work folder would resume
  // from the original folder's files; the backend: src/demo/plan-record.ts
  const planId: PlanRecord = { mode, backend: resolved, backend_requested: backend, native_kernels, baseline, out, plan, contents: { train_config: sha(resolve(REPO_ROOT, plan.trainConfig)), baseline_weights: sha(join(baseline, 'model.safetensors')), baseline_preprocessor: sha(join(baseline, 'preprocessor_config.json')) } };
  const asked = argv.backend !== undefined ? `--backend ${backend}` : process.env.LOGOLAB_BACKEND !== undefined ? `LOGOLAB_BACKEND=${backend}` : `backend ${backend} (the default)`;
  const warning = checkEarlierPlan(existsSync(planFile) ? readFileSync(planFile, 'utf8') : null, planId, out, asked);
  if (warning) log('warn', warning);
  const run = new StageRunner(out, 8);
  writeJsonAtomic(planFile, planId);
  process.stderr.write(`[demo] mode ${mode}, work folder ${out}, baseline ${relative(REPO_ROOT, baseline) || baseline}, backend ${backend}${resolved !== backend ? ` (${resolved})` : ''}${resolved === 'cpu' ? `, native kernels ${native_kernels ? 'on' : 'off'}` : ''}\n`);
  const p = (...s: string[]) => join(out, ...s);
  const s = plan.synth;

  await run.stage('synth', `synthesize ${s.brands} held-out brands (set B) × ${s.imagesPerBrand} scenes`, async () => {
    await runLogolab(['synth', '--out', p('synthB'), '--brands', String(s.brands), '--images-per-brand', String(s.imagesPerBrand), '--seed', String(s.seed), '--brand-set', 'B', '--min-side', String(s.minSide), '--max-side', String(s.maxSide)]);
    return { dir: p('synthB') };
  });
  const split = await run.stage('split', 'split scenes: odd → fine-tuning, even → held-out test', () => splitSynthScenes(p('synthB'), p('synthB_train'), p('synthB_test')));
  process.stderr.write(`[demo] fine-tuning scenes ${split.train.scenes} (${split.train.brands} brands), test scenes ${split.test.scenes} (${split.test.brands} brands)\n`);
  await run.stage('prepare', 'prepare both halves (reference crops + SQLite ground truth)', async () => {
    await runLogolab(['prepare', '--dataset', p('synthB_train'), '--out', p('data_train')]);
    await runLogolab(['prepare', '--dataset', p('synthB_test'), '--out', p('data_test')]);
    return { train: p('data_train'), test: p('data_test') };
  });
  const base = await run.stage('eval-baseline', 'evaluate the shipped baseline on the held-out test scenes', async () => {
    await runLogolab(['eval', ...be, '--data', p('data_test'), '--model', baseline, ...plan.evalArgs, '--json', p('baseline_eval.json')], { stdoutFile: p('baseline_eval.txt') });
    const j = JSON.parse(readFileSync(p('baseline_eval.json'), 'utf8')) as { result: { f1: number }; retrieval?: { overall?: { precision_at_1: number } } };
    return { f1: j.result.f1, p1: j.retrieval?.overall?.precision_at_1 ?? null };
  });
  process.stderr.write(`[demo] baseline: F1 ${(100 * base.f1).toFixed(1)}%, precision@1 ${base.p1 === null ? 'n/a' : (100 * base.p1).toFixed(1) + '%'} (${p('baseline_eval.txt')})\n`);
  const trained = await run.stage('train', `LoRA fine-tune (${plan.trainConfig}, image-level split)`, async () => {
    const last = p('checkpoints', 'last.ckpt');
    const args = ['train', ...be, '--config', resolve(REPO_ROOT, plan.trainConfig), '--base-model', baseline, '--dataset-dir', p('synthB_train'),
      '--reference-dir', p('data_train', 'reference_logos'), '--db-path', p('data_train'), '--checkpoint-dir', p('checkpoints'), '--output-dir', p('train_export')];
    for (const [k, v] of Object.entries(plan.trainOverrides)) args.push(`--${k}`, v);
    if (existsSync(last)) {
      process.stderr.write(`[demo] resuming training from ${last}\n`);
      args.push('--resume', last);
    } else args.push('--overwrite'); // a killed attempt of this plan may have left best.ckpt alone
    const r = lastJson(await runLogolab(args, { stdoutFile: p('train_result.json') }), 'train');
    if (r.status !== 'completed') throw new LogolabError(`train: status ${String(r.status)}; re-run the demo to resume`);
    return { checkpoint: (r.best_checkpoint ?? r.last_checkpoint) as string, steps: r.steps, epochs: r.epochs, best_separation: r.best_separation, seconds: r.seconds };
  });
  await run.stage('export', 'export the fine-tuned model (hf, LoRA merged)', async () => {
    await runLogolab(['export', ...be, '--checkpoint', trained.checkpoint, '--out', p('finetuned'), '--format', 'hf']);
    return { dir: p('finetuned') };
  });
  await run.stage('compare', 'compare baseline vs fine-tuned on the held-out test scenes', async () => {
    await runLogolab(['compare', ...be, '--data', p('data_test'), '--baseline', baseline, '--candidate', p('finetuned'), ...plan.evalArgs, '--calibrate', 'f1', '--report', p('report')], { stdoutFile: p('compare.txt') });
    return { report: p('report', 'report.html') };
  });
  const cmp = await run.stage('summary', 'side-by-side table', async () => readComparison(p('report', 'report.json')));
  const summary = { mode, backend, native_kernels, out, ...cmp, timings: run.timings, wallSeconds: +run.elapsed().toFixed(1) };
  writeJsonAtomic(p('demo_summary.json'), summary);
  process.stdout.write(`\n${formatComparison(cmp)}\n\nreport: ${p('report', 'report.html')}\n`);
  process.stderr.write(`[demo] stages: ${run.timings.map((t) => `${t.stage} ${formatDuration(t.seconds)}${t.resumed ? ' (earlier run)' : ''}`).join(', ')}; this run ${formatDuration(run.elapsed())}\n`);
}
