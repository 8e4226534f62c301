/**
 * `logolab compare`: baseline vs candidate (model folder, or a LoRA adapter folder applied to the
 * baseline) on the same sample; writes report.html (inline SVG plots), report.md, report.json.
 */
import type { CommandModule } from 'yargs';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { LogolabError, firstLine } from '../../src/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/io/atomic.js';
import { log } from '../../src/util/log.js';
import { drawSample, embeddingPass, openSource, type Source } from '../../src/eval/run.js';
import { parseCalibrationTarget, parseNumberList } from '../../src/eval/sweep.js';
import { compareModels } from '../../src/report/compare.js';
import { buildGallery } from '../../src/report/gallery.js';
import { galleryThumbnails, logoThumbnails } from '../../src/report/thumbnails.js';
import { renderHtml, renderMarkdown } from '../../src/report/render.js';
import { exportCheckpoint } from '../../training/export.js';
import { counting, loadEncoder, matchOptions, passOptions, sampleOptions, sweepSpec, withEvalOptions, type EvalArgv } from './_eval-shared.js';

export const command: CommandModule = {
  command: 'compare',
  describe: 'compare a baseline and a candidate model on the same sample; write an HTML/markdown/JSON report',
  builder: (y) =>
    withEvalOptions(y)
      .option('baseline', { type: 'string', describe: 'baseline model folder or HF repo id (org/name[@rev], local HF cache)' })
      .option('candidate', { type: 'string', describe: 'candidate model folder or HF repo id, a LoRA adapter folder (applied to --baseline), or a training checkpoint (.ckpt)' })
      .option('baseline-embeddings', { type: 'string', describe: 'exchange file for the baseline (instead of --baseline)' })
      .option('candidate-embeddings', { type: 'string', describe: 'exchange file for the candidate (instead of --candidate)' })
      .option('report', { type: 'string', demandOption: true, describe: 'output folder for report.html, report.md, report.json' })
      .option('calibrate', { type: 'string', describe: 'precision=0.9 | recall=0.8 | f1: per model, choose its threshold on a seeded half of the test images and score it on the other half' }),
  handler: async (argv) => {
    const a = argv as EvalArgv;
    await initBackend(a.backend as string | undefined, { workload: String(a.detector).startsWith('detr:') ? 'detector' : 'encoder' });
    const m = matchOptions(a);
    const calTarget = a.calibrate ? parseCalibrationTarget(a.calibrate as string) : undefined; // bad value: fail before any embedding work
    const cnt = counting(a);
    const so = sampleOptions(a);
    const po = passOptions(a);
    const srcB: Source = await openSource({ data: a.data as string | undefined, folders: a.folders as string | undefined, embeddings: a['baseline-embeddings'] as string | undefined });
    const srcC: Source = a['candidate-embeddings'] ? await openSource({ embeddings: a['candidate-embeddings'] as string }) : srcB;
    const sample = drawSample(srcB, so);
    // the same sample for both: the candidate's dataset must hold the same ids
    const sampleC = drawSample(srcC, so);
    if (JSON.stringify(sampleC.images.map((i) => i.id)) !== JSON.stringify(sample.images.map((i) => i.id)) || JSON.stringify(sampleC.refs.map((r) => r.id)) !== JSON.stringify(sample.refs.map((r) => r.id))) {
      throw new LogolabError('baseline and candidate embeddings come from different datasets (their samples differ); export both from the same data dir');
    }
    log('info', `sample: ${sample.logos.length} logos, ${sample.refs.length} reference crops, ${sample.images.length} test images (seed ${so.seed})`);
    const side = async (label: string, src: Source, modelDir: string | undefined, adapter: string | undefined) => {
      let loaded: Awaited<ReturnType<typeof loadEncoder>> | null = null;
      if (!src.exchange) {
        if (!modelDir) throw new LogolabError(`give --${label} <model dir> (or --${label}-embeddings <file>)`);
        loaded = await loadEncoder(modelDir, adapter, a['preprocess-mode'] as string, po.batchSize ?? 16);
      }
      try {
        const pass = await embeddingPass(src, src === srcB ? sample : sampleC, loaded?.encoder ?? null, po);
        return { label, name: pass.model, prepared: pass.similarities, detector: pass.detector };
      } finally {
        loaded?.model.dispose();
      }
    };
    let cand = a.candidate as string | undefined;
    let tmpExport: string | null = null;
    if (cand && cand.endsWith('.ckpt')) {
      // A training checkpoint: export it (LoRA merged) to a temporary HF folder and compare that.
      tmpExport = mkdtempSync(join(tmpdir(), 'logolab-compare-'));
      cand = join(tmpExport, 'model');
    }
    let b: Awaited<ReturnType<typeof side>>;
    let c: Awaited<ReturnType<typeof side>>;
    try {
      if (tmpExport) await exportCheckpoint(a.candidate as string, cand!, { format: 'hf' });
      const candIsAdapter = !!cand && existsSync(join(cand, 'adapter_config.json'));
      b = await side('baseline', srcB, a.baseline as string | undefined, undefined);
      c = await side('candidate', srcC, candIsAdapter ? (a.baseline as string | undefined) : cand, candIsAdapter ? cand : undefined);
    } finally {
      if (tmpExport) rmSync(tmpExport, { recursive: true, force: true });
    }
    if (b.prepared.set.meta.fingerprint === c.prepared.set.meta.fingerprint)
      log('warn', `baseline and candidate are the same model (fingerprint ${String(b.prepared.set.meta.fingerprint).slice(0, 16)}…): the comparison cannot show a difference`);
    const thresholds = [...new Set([...parseNumberList('0:1:0.01', 'thresholds'), ...sweepSpec(a, m).thresholds])].sort((x, y) => x - y);
    const data = compareModels([b, c], m, thresholds, cnt, { detector: b.detector, seed: so.seed, refsPerLogo: so.refsPerLogo, positiveSamples: so.positiveSamples, negativeSamples: so.negativeSamples, calibrate: calTarget });
    // the gallery shows each model's mistakes at the threshold it would be used at
    data.gallery = [b, c].map((s, k) => buildGallery(s.label, s.prepared, sample.images.map((im) => im.gt), m, data.models[k]!.calibration?.threshold ?? m.threshold, cnt));
    try {
      data.thumbnails = await logoThumbnails(sample.refs, sample.logos);
      await galleryThumbnails(data.gallery, (i) => sample.images[i]!.path);
    } catch (e) {
      // e.g. an exchange file made on another machine: the report is complete without pictures
      log('warn', `report thumbnails left out: ${firstLine(e)}`);
    }
    const dir = a.report as string;
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, 'report.json'), data);
    writeFileAtomic(join(dir, 'report.md'), renderMarkdown(data));
    writeFileAtomic(join(dir, 'report.html'), renderHtml(data));
    const f = (x: number) => `${(x * 100).toFixed(1)}%`;
    for (const s of data.models) {
      const cal = s.calibration?.test && s.calibration.threshold !== null ? ` | calibrated F1 ${f(s.calibration.test.f1)} @${s.calibration.threshold} (held-out half)` : s.calibration ? ' | calibration: no threshold reaches the target' : '';
      process.stdout.write(`${s.label.padEnd(9)} @${m.threshold}: P ${f(s.atThreshold.precision)} R ${f(s.atThreshold.recall)} F1 ${f(s.atThreshold.f1)} | best F1 ${f(s.best.counts.f1)} @${s.best.threshold}${cal}  (${s.name})\n`);
    }
    process.stdout.write(`per logo: ${data.wins} wins, ${data.losses} losses, ${data.ties} ties for the candidate\nreport: ${join(dir, 'report.html')}\n`);
  },
};
