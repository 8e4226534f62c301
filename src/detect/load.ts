/**
 * DETR checkpoints: an HF folder (config.json + model.safetensors, single or sharded) or a folder
 * written by `logolab convert` (same layout), or the `detr-r50` preset (real shapes, random weights).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogolabError } from '../errors.js';
import { openCheckpoint } from '../io/checkpoint.js';
import { resolveModelPath } from '../models/hub.js';
import { log } from '../util/log.js';
import { detrConfigFromJson, type DetrConfig } from './config.js';
import { detrForward, type DetrOutputs } from './model.js';
import { buildDetrWeights, checkAgainstSpec, disposeDetrWeights, isIgnorableKey, storeSource, syntheticSource, type DetrWeights, type WeightSource } from './weights.js';
import { readJsonObject } from '../util/json.js';

export class DetrModel {
  constructor(
    readonly config: DetrConfig,
    readonly weights: DetrWeights,
    /** checkpoint keys the model does not use */
    readonly leftovers: string[],
    readonly dir: string | null,
    /** sha256 over every tensor the model was built from (name, shape, float32 bytes), as read */
    readonly weightsDigest: string,
  ) {}

  /** pixelValues [B,3,H,W]; pixelMask [B·H·W] or null. Caller disposes the outputs. */
  forward(pixelValues: tf.Tensor4D, pixelMask: ArrayLike<number> | null, opts: { queryPositionEmbeddings?: tf.Tensor2D } = {}): DetrOutputs {
    return detrForward(this.config, this.weights, pixelValues, pixelMask, opts);
  }

  dispose(): void {
    disposeDetrWeights(this.weights);
  }
}

/**
 * Checks a source against the key map, reports leftovers, builds the model. The tensors are hashed
 * as they are read (each is read once, in the key map's order), as the encoder's base fingerprint
 * hashes its tensors: a file's path says nothing about the weights in it.
 */
export function detrFromSource(cfg: DetrConfig, src: WeightSource, dir: string | null = null): DetrModel {
  const { leftovers } = checkAgainstSpec(cfg, src);
  const unexpected = leftovers.filter((k) => !isIgnorableKey(k));
  if (leftovers.length) {
    const shown = unexpected.slice(0, 5).join(', ');
    log(unexpected.length ? 'warn' : 'debug', `${src.source}: ${leftovers.length} unused tensor(s) ignored${unexpected.length ? ` (e.g. ${shown})` : ' (BatchNorm num_batches_tracked)'}`);
  }
  const h = createHash('sha256');
  const hashed: WeightSource = {
    source: src.source,
    keys: () => src.keys(),
    shape: (k) => src.shape(k),
    read: (k) => {
      const d = src.read(k);
      h.update(`${k}:${JSON.stringify(src.shape(k))}:`);
      h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      return d;
    },
  };
  const weights = buildDetrWeights(cfg, hashed);
  return new DetrModel(cfg, weights, leftovers, dir, h.digest('hex'));
}

export function readDetrConfig(dir: string): DetrConfig {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LogolabError(`${dir}: not a DETR model folder (no such directory)`);
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new LogolabError(`${dir}: no config.json (expected an HF DetrForObjectDetection folder)`);
  return detrConfigFromJson(readJsonObject(cfgPath), cfgPath);
}

/** Loads an HF / converted DETR folder. */
export function loadDetrModel(dir: string): DetrModel {
  dir = resolveModelPath(dir); // a folder, or an HF repo id in the local cache
  const cfg = readDetrConfig(dir);
  const store = openCheckpoint(dir);
  try {
    return detrFromSource(cfg, storeSource(store), dir);
  } finally {
    store.close();
  }
}

/** The real facebook/detr-resnet-50 shapes (timm resnet50, d 256, 6+6 layers, 100 queries). */
export function detrR50Config(numLabels = 1): DetrConfig {
  const id2label: Record<string, string> = {};
  for (let i = 0; i < numLabels; i++) id2label[i] = numLabels === 1 ? 'logo' : `LABEL_${i}`;
  return detrConfigFromJson({
    model_type: 'detr',
    architectures: ['DetrForObjectDetection'],
    backbone_config: { model_type: 'timm_backbone', backbone: 'resnet50', out_indices: [1, 2, 3, 4] },
    d_model: 256,
    encoder_layers: 6,
    decoder_layers: 6,
    encoder_attention_heads: 8,
    decoder_attention_heads: 8,
    encoder_ffn_dim: 2048,
    decoder_ffn_dim: 2048,
    num_queries: 100,
    id2label,
  }, 'preset detr-r50');
}

/** The name of the random-weights preset (benchmarks and tests: its boxes mean nothing). */
export const DETR_PRESET = 'detr-r50';

/**
 * Whether a detector spec (without `detr:`) names the preset: a file or folder of that name here is
 * what the user named (a path wins over a name, as for encoders: resolveModelPath), so the preset is
 * taken only when no such path exists.
 */
export function isDetrPreset(target: string): boolean {
  return target === DETR_PRESET && !existsSync(target);
}

/** A detector spec without its `detr:` prefix (`detr:<dir>` → `<dir>`; `detr:` → ''); any other spec as it is. */
export function detrTarget(spec: string): string {
  return spec.startsWith('detr:') ? spec.slice(5) : spec;
}

/**
 * The folder a detector spec (`detr:<dir|repo id>`, `<dir|repo id>`) reads its weights and configs
 * from — an HF repo id's cached snapshot — or null for the preset, which reads none. Outputs must
 * not replace files in it.
 */
export function detectorFolder(spec: string): string | null {
  const target = detrTarget(spec);
  if (!target || isDetrPreset(target)) return null;
  return resolveModelPath(target, { quiet: true });
}

/**
 * `detr-r50` preset (random weights of the real shape) or a folder. The preset's boxes mean
 * nothing: it is never loaded without a warning, even for the library API (`quiet` silences notes
 * only), so it cannot stand in for a real detector unnoticed.
 */
export function loadDetrOrPreset(spec: string, seed = 0, o: { quiet?: boolean } = {}): DetrModel {
  if (isDetrPreset(spec)) {
    log('warn', `detector ${DETR_PRESET}: random weights of facebook/detr-resnet-50's shapes (seed ${seed}), for benchmarks and tests: its boxes mean nothing`);
    return detrFromSource(detrR50Config(), syntheticSource(detrR50Config(), { seed }));
  }
  if (spec === DETR_PRESET && !o.quiet) log('info', `${spec}: the folder ${resolve(spec)}, not the random-weights preset of that name`);
  return loadDetrModel(spec);
}
