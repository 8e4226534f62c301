/**
 * `logolab bench embed --model <dir|vit-l14|vit-b16|tiny> --batch N [--family clip] [--iters K] [--profile]`:
 * images/s of the vision encoder's forward pass (random pixels of the processor's output size;
 * presets have random weights of the real shapes, no download). `--warmup` untimed batches (default
 * 1), then `--iters` timed batches (default 3); the result is their mean. `--per-layer` times the embeddings, ONE encoder layer and the pooling and extrapolates
 * to the full depth (for runs that would take minutes, e.g. ViT-L on the cpu backend); the
 * result says `"estimated": true`.
 */
import type { CommandModule } from 'yargs';
import { numberOption, POSITIVE_INT, COUNT } from '../../options.js';
import { givenOptions } from '../../option-forms.js';
import { UsageError } from '../../../src/errors.js';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/index.js';
import { backendLabel } from '../../../src/backend/label.js';
import { buildVisionModel, loadVisionModel, type VisionModel } from '../../../src/models/vision/index.js';
import { VISION_FAMILIES, type VisionFamily } from '../../../src/models/vision/config.js';
import { isPresetName, PRESET_NAMES } from '../../../src/models/vision/presets.js';
import { log } from '../../../src/util/log.js';
import { formatKernelProfile, kernelProfileJson, profileKernels, type KernelProfile } from '../../../src/backend/kernel-profile.js';

/** Measured seconds to 3 significant digits: fixed decimals printed a fast batch as 0 beside its finite rate. */
const secs = (s: number): number => +s.toPrecision(3);

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export const command: CommandModule = {
  command: 'embed',
  describe: 'vision encoder forward images/s',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: `model folder or preset (${PRESET_NAMES.join('|')})` })
      .option('family', { type: 'string', choices: VISION_FAMILIES as unknown as string[], default: 'clip', describe: 'family of a preset' })
      .option('batch', numberOption('batch', POSITIVE_INT('images per forward pass', 8)))
      .option('iters', numberOption('iters', POSITIVE_INT('timed batches', 3)))
      .option('warmup', numberOption('warmup', COUNT('untimed batches first (0 for long runs: the first batch then includes one-time setup)', 1)))
      .option('seed', numberOption('seed', COUNT('random weights / input seed', 0)))
      .option('per-layer', { type: 'boolean', default: false, describe: 'time one layer and extrapolate (estimate)' })
      .option('profile', { type: 'boolean', default: false, describe: 'per-kernel time, calls and native / stock JS of the timed batches (table on stderr, kernel_profile in the JSON)' }),
  handler: async (argv) => {
    const name = argv.model as string;
    const preset = isPresetName(name) && !existsSync(name);
    if (!preset && givenOptions(argv).has('family')) throw new UsageError(`--family: applies to a preset --model (${PRESET_NAMES.join('|')}); a folder's config.json says its family`);
    const backend = await initBackend(argv.backend as string | undefined, { workload: 'encoder' });
    const batch = argv.batch as number;
    const iters = argv.iters as number;
    let model!: VisionModel;
    const loadS = await timeIt(async () => {
      if (preset) model = buildVisionModel(argv.family as VisionFamily, name, 'random', argv.seed as number);
      else model = await loadVisionModel(name);
    });
    try {
      const { height: h, width: w } = model.processor.outputSize;
      const x = tf.randomUniform([batch, 3, h, w], -2, 2, 'float32', argv.seed as number) as tf.Tensor4D;
      let profile: KernelProfile | undefined;
      const result: Record<string, unknown> = {
        // the label, not the bare name: cpu with and without the native kernels differ 10–30× in speed
        model: name, family: model.family, backend: backendLabel(backend), batch, image_size: h, layers: model.layers.length, load_s: secs(loadS),
      };
      if (argv['per-layer']) {
        // embeddings + one layer + pool, extrapolated to all layers
        const run = async (): Promise<{ emb: number; layer: number; pool: number }> => {
          const hs = tf.tidy(() => model.embeddings(x));
          await hs.data();
          const emb = await timeIt(async () => tf.tidy(() => model.embeddings(x)).data().then(() => undefined));
          let layer = 0;
          const y = model.layers[0]!.forward(hs);
          await y.data();
          y.dispose();
          layer = await timeIt(async () => {
            const z = model.layers[0]!.forward(hs);
            await z.data();
            z.dispose();
          });
          const pool = await timeIt(async () => {
            const p = tf.tidy(() => model.project(model.pool(hs).poolerOutput));
            await p.data();
            p.dispose();
          });
          hs.dispose();
          return { emb, layer, pool };
        };
        log('info', `bench embed: timing embeddings + 1 of ${model.layers.length} layers, batch ${batch}`);
        const r = argv.profile ? await profileKernels(run).then((p) => ((profile = p.profile), p.result)) : await run();
        const total = r.emb + model.layers.length * r.layer + r.pool;
        Object.assign(result, { estimated: true, layer_s: secs(r.layer), batch_s: secs(total), images_per_s: +(batch / total).toFixed(3) });
      } else {
        const once = async () => {
          const out = model.forward(x);
          await out.imageEmbeds.data();
          tf.dispose([out.imageEmbeds, out.poolerOutput, out.lastHiddenState]);
        };
        let warm = 0;
        for (let i = 0; i < (argv.warmup as number); i++) {
          log('info', `bench embed: warm-up batch of ${batch} (${h}×${w})`);
          warm += await timeIt(once);
        }
        const times: number[] = [];
        const timed = async () => {
          for (let i = 0; i < iters; i++) {
            times.push(await timeIt(once));
            log('info', `bench embed: batch ${i + 1}/${iters}: ${times[i]!.toFixed(3)} s (${(batch / times[i]!).toFixed(2)} img/s)`);
          }
        };
        if (argv.profile) profile = (await profileKernels(timed)).profile;
        else await timed();
        const mean = times.reduce((a, b) => a + b, 0) / times.length;
        Object.assign(result, { estimated: false, warmup: argv.warmup, warmup_s: secs(warm), iters, batch_s: secs(mean), images_per_s: +(batch / mean).toFixed(3) });
      }
      x.dispose();
      result.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
      if (profile) {
        process.stderr.write(formatKernelProfile(profile, { title: `bench embed ${name} batch ${batch}` }) + '\n');
        result.kernel_profile = kernelProfileJson(profile);
      }
      process.stdout.write(JSON.stringify(result) + '\n');
    } finally {
      model.dispose();
    }
  },
};
