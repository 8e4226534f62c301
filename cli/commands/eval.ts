/**
 * `logolab eval`: the Python original's test_logo_detection.py — sample, one embedding pass, matching,
 * counting, its summary block — plus single-pass sweeps, calibration, retrieval metrics.
 */
import type { CommandModule } from 'yargs';
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { assertOutputFile } from '../../src/io/file-kind.js';
import { initBackend } from '../../src/backend/index.js';
import { LogolabError } from '../../src/errors.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { log } from '../../src/util/log.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { formatFileBlock, formatSummary } from '../../src/eval/format.js';
import { formatDetails, similarityDetails } from '../../src/eval/details.js';
import { calibrate, formatCalibration, formatSweepTable, parseCalibrationTarget, runSweep } from '../../src/eval/sweep.js';
import { drawSample, embeddingPass, openSource, runInfo } from '../../src/eval/run.js';
import { referenceRetrieval } from '../../src/eval/retrieval.js';
import { formatRetrieval } from '../../src/eval/summary.js';
import { counting, DEFAULT_BATCH, detectorOption, PASS_FLAGS, refuseSamplingFlags, refuseUnusedSweepFlags, sampleLine, SWEEP_FLAGS, loadEncoder, matchOptions, passOptions, preprocessModeOption, refuseWithEmbeddings, sampleOptions, sweepSpec, withEvalOptions, evalInputs, refuseUnreachableMinRefs, type EvalArgv } from './_eval-shared.js';

export const command: CommandModule = {
  command: 'eval',
  describe: 'evaluate logo matching on a prepared data dir (the reference test_logo_detection.py)',
  builder: (y) =>
    withEvalOptions(y)
      .option('model', { alias: 'e', type: 'string', describe: 'vision model folder (HF or converted) or HF repo id (org/name[@rev], local HF cache)' })
      .option('adapter', { type: 'string', describe: 'LoRA adapter folder' })
      .option('output-file', { type: 'string', describe: 'append the summary block to this file' })
      .option('similarity-details', { type: 'boolean', default: false, describe: 'similarity distribution analysis + suggested threshold' })
      .option('sweep', { type: 'boolean', default: false, describe: 'print every --sweep-* cell from the same embedding pass' })
      .option('calibrate', { type: 'string', describe: 'precision=0.9 | recall=0.8 | f1: choose the threshold on a calibration half, report on the other' })
      .option('retrieval', { type: 'boolean', default: true, describe: 'retrieval metrics over the reference crops' })
      .option('json', { type: 'string', describe: 'also write the results as JSON here' }),
  handler: async (argv) => {
    const a = argv as EvalArgv;
    if (a.embeddings) refuseWithEmbeddings(a, 'embeddings', ['model', 'adapter', 'detector', 'preprocess-mode', ...PASS_FLAGS]);
    // output paths and option values are checked before the (slow) embedding pass
    const inputs = evalInputs(a);
    if (a.json) assertOutputFile(a.json as string, '--json', [...inputs, ...(a['output-file'] ? [{ path: a['output-file'] as string, what: '--output-file' }] : [])]);
    if (a['output-file']) {
      const f = a['output-file'] as string;
      assertOutputFile(f, '--output-file', inputs);
      if (!existsSync(dirname(resolve(f)))) throw new LogolabError(`--output-file ${f}: no such file or directory (its folder ${dirname(resolve(f))} does not exist)`);
    }
    // --sweep reads every --sweep-* list; --calibrate chooses among --sweep-thresholds
    const sweepRead = a.sweep ? SWEEP_FLAGS : a.calibrate ? ['sweep-thresholds'] : [];
    refuseUnusedSweepFlags(a, sweepRead, a.calibrate ? 'without --sweep only --sweep-thresholds is read (the thresholds --calibrate chooses from)' : 'read with --sweep (and --sweep-thresholds with --calibrate)');
    const m = matchOptions(a);
    const spec = sweepSpec(a, m);
    const calTarget = a.calibrate ? parseCalibrationTarget(a.calibrate as string) : null;
    // a DETR detector dominates the run's time; otherwise the encoder does
    await initBackend(a.backend as string | undefined, { workload: detectorOption(a).startsWith('detr:') ? 'detector' : 'encoder' });
    const cnt = counting(a);
    const so = sampleOptions(a);
    const po = passOptions(a);
    const src = await openSource({ data: a.data as string | undefined, embeddings: a.embeddings as string | undefined, folders: a.folders as string | undefined });
    refuseSamplingFlags(a, src, !!a.calibrate);
    const sample = drawSample(src, so);
    log('info', sampleLine(src, sample));
    refuseUnreachableMinRefs(spec, sample);
    let loaded: Awaited<ReturnType<typeof loadEncoder>> | null = null;
    if (!src.exchange) {
      if (!a.model) throw new LogolabError('give --model <dir> (or --embeddings <file>)');
      loaded = await loadEncoder(a.model as string, a.adapter as string | undefined, preprocessModeOption(a), po.batchSize ?? DEFAULT_BATCH);
    }
    const t0 = Date.now();
    let pass;
    try {
      pass = await embeddingPass(src, sample, loaded?.encoder ?? null, po);
    } finally {
      loaded?.model.dispose();
    }
    const secs = (Date.now() - t0) / 1000;
    log('info', `embedding pass: ${secs.toFixed(2)} s${pass.cacheStats ? ` (cache: ${pass.cacheStats.hits} hits, ${pass.cacheStats.misses} misses)` : ''}`);
    const r = evaluate(pass.similarities, m, cnt);
    // a folder layout samples nothing: its seed is --calibrate's split's, or none
    const info = runInfo(pass, { counting: cnt, seed: src.all ? (calTarget ? so.seed : null) : so.seed });
    let out = formatSummary(info, m, r);
    const details = a['similarity-details'] ? similarityDetails(pass.similarities, r) : null;
    if (details) out += formatDetails(details);
    const retrieval = a.retrieval ? referenceRetrieval(pass.similarities.set) : null;
    out += formatRetrieval(retrieval);
    const sweep = a.sweep ? runSweep(pass.similarities, spec, cnt) : null;
    if (sweep) out += `\nSWEEP (${sweep.length} cells, one embedding pass)\n` + formatSweepTable(sweep);
    const cal = calTarget ? calibrate(pass.similarities, m, spec.thresholds, calTarget, so.seed, cnt) : null;
    if (cal) out += formatCalibration(cal);
    process.stdout.write(out);
    if (a['output-file']) {
      appendFileSync(a['output-file'] as string, formatFileBlock(info, m, r));
      process.stdout.write(`\nResults appended to: ${a['output-file'] as string}\n`);
    }
    if (a.json) {
      const { outcomes: _o, ...counts } = r;
      writeJsonAtomic(a.json as string, { info, options: m, result: counts, outcomes: r.outcomes, details, retrieval, sweep, calibration: cal, embeddingPassSeconds: secs, cache: pass.cacheStats });
    }
  },
};
