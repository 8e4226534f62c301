/**
 * `logolab compare`: baseline vs candidate (model folder, or a LoRA adapter folder applied to the
 * baseline) on the same sample; writes report.html (inline SVG plots), report.md, report.json.
 */
import type { CommandModule } from 'yargs';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { LogolabError, UsageError } from '../../src/errors.js';
import { writeFilesAtomic } from '../../src/io/atomic.js';
import { checkOutputDir, OUTPUT_MARKER, type OutputGuard } from '../../src/io/output-dir.js';
import { makePidTempDir, withSignalsHeld } from '../../src/util/process.js';
import { log } from '../../src/util/log.js';
import { drawSample, embeddingPass, openSource, preprocessModeOf, type Source } from '../../src/eval/run.js';
import { PREPROCESS_MODES } from '../../src/preprocess/processors.js';
import { DETR_DEFAULTS, detectorMismatch, detrSettingsText, type DetectorIdentity, type DetrSettings } from '../../src/eval/proposals.js';
import { parseCalibrationTarget, parseNumberList } from '../../src/eval/sweep.js';
import { compareModels } from '../../src/report/compare.js';
import { buildGallery } from '../../src/report/gallery.js';
import { galleryThumbnails, logoThumbnails } from '../../src/report/thumbnails.js';
import { rateTexts, renderHtml, renderMarkdown } from '../../src/report/render.js';
import { exportCheckpoint } from '../../training/export.js';
import type { VisionModel } from '../../src/models/vision/index.js';
import { counting, DEFAULT_BATCH, DETR_FLAGS, detectorOption, PASS_FLAGS, refuseSamplingFlags, refuseUnusedSweepFlags, sampleLine, loadEncoder, matchOptions, passOptions, preprocessModeOption, refuseWithEmbeddings, sampleOptions, sweepSpec, withEvalOptions, refuseUnreachableMinRefs, type EvalArgv } from './_eval-shared.js';
import { mkdirp } from '../../src/io/mkdirp.js';

const REPORT_FILES = ['report.html', 'report.md', 'report.json'];
/** `<tmpdir>/logolab-compare-<pid>-XXXXXX`: the merged export of a --candidate checkpoint */
export const COMPARE_TMP_PREFIX = 'logolab-compare-';

/**
 * A report written before markers existed: exactly the three report files, its report.json in
 * compare's shape. Fewer files, or a report.json of another shape, may be the user's own (a
 * hand-written report.md) and are never taken for ours.
 */
function isMarkerlessReport(dir: string, entries: string[]): boolean {
  if (entries.length !== REPORT_FILES.length || !REPORT_FILES.every((f) => entries.includes(f))) return false;
  try {
    const j = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Record<string, unknown> | null;
    return !!j && Array.isArray(j.models) && Array.isArray(j.perLogo) && typeof j.sample === 'object' && j.sample !== null;
  } catch {
    return false;
  }
}

/**
 * --report is written only into a new or empty folder, an earlier report (our marker, or one
 * written before markers existed: isMarkerlessReport) or, with --overwrite, any folder; never into
 * one holding the command's inputs.
 */
function reportGuard(a: EvalArgv): OutputGuard {
  const dir = a.report as string;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    // missing or not a folder: checkOutputDir says which
  }
  const inputs: [string, string][] = [['data', 'data dir'], ['folders', 'folder layout'], ['baseline-embeddings', 'baseline embeddings'], ['candidate-embeddings', 'candidate embeddings'], ['baseline', 'baseline model'], ['candidate', 'candidate model']];
  return {
    command: 'compare',
    flag: '--report',
    writesInto: true,
    overwrite: a.overwrite as boolean,
    legacyMarkers: isMarkerlessReport(dir, entries) ? REPORT_FILES : [],
    protect: inputs.filter(([k]) => typeof a[k] === 'string').map(([k, what]) => ({ path: a[k] as string, what })),
  };
}

export const command: CommandModule = {
  command: 'compare',
  describe: 'compare a baseline and a candidate model on the same sample; write an HTML/markdown/JSON report',
  builder: (y) =>
    withEvalOptions(y, 'compare')
      .option('baseline', { type: 'string', describe: 'baseline model folder or HF repo id (org/name[@rev], local HF cache)' })
      .option('candidate', { type: 'string', describe: 'candidate model folder or HF repo id, a LoRA adapter folder (applied to --baseline), or a training checkpoint (.ckpt)' })
      .option('baseline-embeddings', { type: 'string', describe: 'exchange file for the baseline (instead of --baseline)' })
      .option('candidate-embeddings', { type: 'string', describe: 'exchange file for the candidate (instead of --candidate)' })
      .option('report', { type: 'string', demandOption: true, describe: 'output folder for report.html, report.md, report.json' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'write --report into a non-empty folder that is not an earlier report (its report.* files are replaced)' })
      .option('calibrate', { type: 'string', describe: 'precision=0.9 | recall=0.8 | f1: per model, choose its threshold among --sweep-thresholds on a seeded half of the test images and score it on the other half' }),
  handler: async (argv) => {
    const a = argv as EvalArgv;
    const dir = a.report as string;
    // the report folder and every option are checked before any model or embedding work
    checkOutputDir(dir, reportGuard(a));
    for (const side of ['baseline', 'candidate']) if (!a[side] && !a[`${side}-embeddings`]) throw new UsageError(`give --${side} <model> or --${side}-embeddings <file>`);
    const cand = a.candidate as string | undefined;
    // an adapter candidate is applied to --baseline, which it then needs even beside --baseline-embeddings
    const adapterCandidate = !!cand && !cand.endsWith('.ckpt') && existsSync(join(cand, 'adapter_config.json'));
    if (a['baseline-embeddings'] && !adapterCandidate) refuseWithEmbeddings(a, 'baseline-embeddings', ['baseline']);
    if (a['candidate-embeddings']) refuseWithEmbeddings(a, 'candidate-embeddings', ['candidate']);
    if (a['baseline-embeddings'] && a['candidate-embeddings']) refuseWithEmbeddings(a, 'baseline-embeddings and --candidate-embeddings', ['detector', 'preprocess-mode', 'data', 'folders', ...PASS_FLAGS]);
    // a side computed here embeds the data dir: beside --baseline-embeddings the candidate needs one
    if (adapterCandidate && !a.baseline) throw new UsageError(`--candidate ${cand}: is a LoRA adapter; give its base model as --baseline <model> (also beside --baseline-embeddings)`);
    // one --embeddings file per model here; eval's --embeddings would be silently unused
    if (a.embeddings !== undefined) throw new UsageError('--embeddings: compare takes one file per model: --baseline-embeddings <file> and --candidate-embeddings <file>');
    if (a['baseline-embeddings'] && !a['candidate-embeddings'] && !a.data && !a.folders) throw new UsageError(`--candidate: computing the candidate's embeddings needs --data <dir> or --folders <root> (the one --baseline-embeddings was made from), or give --candidate-embeddings <file>`);
    refuseUnusedSweepFlags(a, ['sweep-thresholds'], 'compare sweeps thresholds only (its curves); eval --sweep sweeps the other settings');
    const m = matchOptions(a);
    const calTarget = a.calibrate ? parseCalibrationTarget(a.calibrate as string) : undefined;
    const spec = sweepSpec(a, m);
    await initBackend(a.backend as string | undefined, { workload: detectorOption(a).startsWith('detr:') ? 'detector' : 'encoder' });
    const cnt = counting(a);
    const so = sampleOptions(a);
    const fromData = () => openSource({ data: a.data as string | undefined, folders: a.folders as string | undefined });
    const srcB: Source = a['baseline-embeddings'] ? await openSource({ embeddings: a['baseline-embeddings'] as string }) : await fromData();
    const srcC: Source = a['candidate-embeddings'] ? await openSource({ embeddings: a['candidate-embeddings'] as string }) : srcB.exchange ? await fromData() : srcB;
    // one side from a file, the other computed here: the computed side takes the file's region
    // proposals and preprocessing, or the two rows would score different crops
    const fileMeta = srcB.exchange && !srcC.exchange ? srcB.exchange.meta : srcC.exchange && !srcB.exchange ? srcC.exchange.meta : null;
    if (fileMeta) {
      const flag = srcB.exchange ? '--baseline-embeddings' : '--candidate-embeddings';
      if (a.detector !== undefined && a.detector !== fileMeta.detector) throw new UsageError(`--detector ${String(a.detector)}: the ${flag} file was made with ${fileMeta.detector}; both sides must use the same region proposals (leave --detector out to use the file's)`);
      const mode = preprocessModeOf(fileMeta.preprocess);
      if (a['preprocess-mode'] !== undefined && a['preprocess-mode'] !== mode) throw new UsageError(`--preprocess-mode ${String(a['preprocess-mode'])}: the ${flag} file was made with ${mode}; both sides must preprocess alike (leave --preprocess-mode out to use the file's)`);
      a.detector = fileMeta.detector;
      // and the file's DETR post-processing, or the computed side would keep other boxes
      const recorded = fileMeta.detectorSettings;
      if (recorded) {
        for (const [f, k] of DETR_FLAGS) {
          if (a[f] !== undefined && a[f] !== recorded[k]) throw new UsageError(`--${f} ${String(a[f])}: the ${flag} file was made with ${recorded[k]}; both sides must keep the same regions (leave --${f} out to use the file's)`);
          a[f] = recorded[k];
        }
      } else if (fileMeta.detector.startsWith('detr:')) {
        const used: DetrSettings = { ...DETR_DEFAULTS };
        for (const [f, k] of DETR_FLAGS) if (a[f] !== undefined) used[k] = a[f] as number;
        log('warn', `the ${flag} file does not record its DETR settings (an older logolab); the other side uses ${detrSettingsText(used)}: give --detr-threshold, --min-box-size and --nms-iou as the file was made`);
      }
      if (PREPROCESS_MODES.includes(mode as never)) a['preprocess-mode'] = mode;
    }
    // --seed also seeds the bootstrap verdict: read with a folder layout too
    refuseSamplingFlags(a, srcB.all ? srcB : srcC, true);
    const po = passOptions(a);
    const sample = drawSample(srcB, so);
    // the same sample for both: the candidate's dataset must hold the same ids
    const sampleC = drawSample(srcC, so);
    if (JSON.stringify(sampleC.images.map((i) => i.id)) !== JSON.stringify(sample.images.map((i) => i.id)) || JSON.stringify(sampleC.refs.map((r) => r.id)) !== JSON.stringify(sample.refs.map((r) => r.id))) {
      throw new LogolabError('baseline and candidate embeddings come from different datasets (their samples differ); export both from the same data dir');
    }
    log('info', sampleLine(srcB, sample));
    refuseUnreachableMinRefs(spec, sample);
    // an adapter candidate beside --baseline-embeddings is applied to --baseline, which must be the
    // model the file was made with, or the adapter would be credited with the two bases' difference.
    // Checked on the candidate model as loaded (its fingerprint without the adapter is its base's),
    // before it embeds anything: the base is read once, not once more for the check
    const checkBase = (model: VisionModel) => {
      if (!(adapterCandidate && srcB.exchange)) return;
      const fileFp = srcB.exchange.meta.fingerprint;
      const fp = model.fingerprint({ lora: false });
      if (fp !== fileFp) throw new LogolabError(`--baseline ${String(a.baseline)}: is not the model the --baseline-embeddings file was made with (${srcB.exchange.meta.model}, fingerprint ${fileFp.slice(0, 12)}…; this one ${fp.slice(0, 12)}…); the adapter must be compared with its own base`);
    };
    let cleared = false;
    // shownAs: how the report names the model (a checkpoint by its path, not the deleted temp export)
    const side = async (label: string, src: Source, modelDir: string | undefined, adapter: string | undefined, shownAs?: string) => {
      let loaded: Awaited<ReturnType<typeof loadEncoder>> | null = null;
      if (!src.exchange) {
        if (!modelDir) throw new LogolabError(`give --${label} <model dir> (or --${label}-embeddings <file>)`);
        loaded = await loadEncoder(modelDir, adapter, preprocessModeOption(a), po.batchSize ?? DEFAULT_BATCH);
      }
      try {
        if (loaded && label === 'candidate') checkBase(loaded.model);
        // --clear-cache empties the cache once, before the first computed side (not again between the two)
        const pass = await embeddingPass(src, src === srcB ? sample : sampleC, loaded?.encoder ?? null, { ...po, clearCache: po.clearCache && !cleared });
        if (!src.exchange) cleared = true;
        const detector = pass.detectorSettings ? `${pass.detector} (${detrSettingsText(pass.detectorSettings)})` : pass.detector;
        return { label, name: shownAs ?? pass.model, prepared: pass.similarities, detector, proposals: { name: pass.detector, settings: pass.detectorSettings } };
      } finally {
        loaded?.model.dispose();
      }
    };
    let candDir = cand;
    let tmpExport: { dir: string; remove: () => void } | null = null;
    if (cand && cand.endsWith('.ckpt')) {
      // A training checkpoint: export it (LoRA merged) to a temporary HF folder and compare that.
      // The folder holds a whole model (≈1.2 GB for ViT-L/14): it carries our pid and is removed on
      // SIGINT/SIGTERM too, and a later compare removes one whose process was killed outright.
      tmpExport = makePidTempDir(COMPARE_TMP_PREFIX);
      candDir = join(tmpExport.dir, 'model');
    }
    let b: Awaited<ReturnType<typeof side>>;
    let c: Awaited<ReturnType<typeof side>>;
    try {
      if (tmpExport) await exportCheckpoint(cand!, candDir!, { format: 'hf' });
      const candIsAdapter = !!candDir && existsSync(join(candDir, 'adapter_config.json'));
      b = await side('baseline', srcB, a.baseline as string | undefined, undefined);
      c = await side('candidate', srcC, candIsAdapter ? (a.baseline as string | undefined) : candDir, candIsAdapter ? candDir : undefined, tmpExport ? cand : undefined);
    } finally {
      tmpExport?.remove();
    }
    // both models must score the same regions (two files may come from different exports); a file
    // of an older logolab records no DETR settings, and then only the detector is compared. Two
    // DETR folders of other paths may be one model on two machines (sharded embedding): a warning
    const [pb, pc] = [b.proposals, c.proposals];
    const bothDetr = pb.name.startsWith('detr:') && pc.name.startsWith('detr:');
    // a DETR is known by its fingerprint where both sides record one (older files: by name only)
    const [ib, ic] = [b.prepared.set.meta as unknown as DetectorIdentity, c.prepared.set.meta as unknown as DetectorIdentity];
    const printed = !!(ib.detectorFingerprint && ic.detectorFingerprint);
    const otherDetr = printed ? detectorMismatch(ib, ic) : null;
    if (otherDetr || (pb.name !== pc.name && !bothDetr) || (pb.settings && pc.settings && detrSettingsText(pb.settings) !== detrSettingsText(pc.settings))) {
      throw new LogolabError(`the baseline's regions come from ${b.detector}, the candidate's from ${c.detector}${otherDetr ? ` (${otherDetr})` : ''}: both models must score the same regions (embed both with the same --detector and DETR settings)`);
    }
    if (pb.name !== pc.name && !printed) log('warn', `the baseline's regions come from ${pb.name}, the candidate's from ${pc.name}: compared as one detector (same settings); if these are different DETR models the two rows score different regions`);
    if (b.prepared.set.meta.fingerprint === c.prepared.set.meta.fingerprint)
      log('warn', `baseline and candidate are the same model (fingerprint ${String(b.prepared.set.meta.fingerprint).slice(0, 16)}…): the comparison cannot show a difference`);
    // the curves (and "best F1") span the whole 0:1 grid plus the listed thresholds; --calibrate
    // chooses among the --sweep-thresholds list alone (default included), as eval --calibrate does,
    // so one model, seed and list give one calibrated threshold in both commands
    const thresholds = [...new Set([...parseNumberList('0:1:0.01', 'thresholds'), ...spec.thresholds])].sort((x, y) => x - y);
    const calibrate = calTarget ? { target: calTarget, thresholds: spec.thresholds } : undefined;
    const data = compareModels([b, c], m, thresholds, cnt, { detector: b.detector, seed: so.seed, refsPerLogo: sample.options.refsPerLogo, positiveSamples: sample.options.positiveSamples, negativeSamples: sample.options.negativeSamples, sampled: !srcB.all, calibrate });
    // the gallery shows each model's mistakes at the threshold it would be used at
    data.gallery = [b, c].map((s, k) => buildGallery(s.label, s.prepared, sample.images.map((im) => im.gt), m, data.models[k]!.calibration?.threshold ?? m.threshold, cnt));
    // a picture that cannot be read (e.g. an exchange file made on another machine) leaves out its
    // own thumbnail only: the report is complete without it
    const failures: string[] = [];
    data.thumbnails = await logoThumbnails(sample.refs, sample.logos, failures);
    await galleryThumbnails(data.gallery, (i) => sample.images[i]!.path, failures);
    if (failures.length) log('warn', `report: ${failures.length} thumbnail${failures.length === 1 ? '' : 's'} left out, ${failures.length === 1 ? 'its picture' : 'their pictures'} could not be read (first: ${failures[0]})`);
    // checked again: the folder may have changed during the run
    checkOutputDir(dir, reportGuard(a));
    // The three files (and our marker, last) are one set: each is written in full under a temp
    // name, then all are renamed back to back with SIGINT/SIGTERM/SIGHUP held off until the last
    // rename — a failed write or a kill never leaves a new report.json beside an earlier report.md
    // or .html. Written into the folder, as before: it may hold the user's other files.
    const files: [string, string][] = [
      ['report.json', JSON.stringify(data, null, 2) + '\n'],
      ['report.md', renderMarkdown(data)],
      ['report.html', renderHtml(data)],
      [OUTPUT_MARKER, JSON.stringify({ command: 'compare', written: new Date().toISOString(), note: 'written by logolab; the command may replace this folder' }, null, 2) + '\n'],
    ];
    mkdirp(dir);
    await withSignalsHeld(() => writeFilesAtomic(files.map(([f, text]) => [join(dir, f), text])));
    const f = (x: number) => `${(x * 100).toFixed(1)}%`;
    // the report's numbers and wording: 0/0 reads n/a, and an f1 target's "none" is said as calibration says it
    for (const s of data.models) {
      const c = s.calibration;
      const missed = c?.target.kind === 'f1' ? 'no --sweep-thresholds value gives an F1 above 0 on the calibration half (no true positive there)' : 'no --sweep-thresholds value reaches the target on the calibration half';
      const cal = c?.test && c.threshold !== null ? ` | calibrated F1 ${rateTexts(c.test).f1} @${c.threshold} (held-out half)` : c ? ` | calibration: ${missed}` : '';
      const best = s.best.threshold === null ? 'best F1: none (F1 is 0 at every threshold)' : `best F1 ${f(s.best.counts.f1)} @${s.best.threshold}`;
      const r = rateTexts(s.atThreshold);
      process.stdout.write(`${s.label.padEnd(9)} @${m.threshold}: P ${r.precision} R ${r.recall} F1 ${r.f1} | ${best}${cal}  (${s.name})\n`);
    }
    process.stdout.write(`per logo: ${data.wins} wins, ${data.losses} losses, ${data.ties} ties for the candidate\nreport: ${join(dir, 'report.html')}\n`);
  },
};
