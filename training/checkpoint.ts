/**
 * Training checkpoints: ONE safetensors file per checkpoint (`<checkpoint_dir>/<name>.ckpt`),
 * written atomically by writeSafetensors (temp file + fsync + rename). A process killed while
 * writing leaves only a stray `.<name>.ckpt.<pid>.<n>.tmp`; the previous `<name>.ckpt` is intact.
 *
 * Tensors:   param/<name>   trainable weights (LoRA A/B as layers.ts stores them, or full weights)
 *            adam_m/<name>  adam_v/<name>   AdamW moments
 * Metadata:  logolab_checkpoint = JSON of TrainState (step/epoch, scheduler, RNG, config,
 *            history, best metric, early-stopping counters, model description incl. the base
 *            model's absolute path and fingerprint — see provenance.ts).
 *            logolab_checksum = sha256 over the state JSON and every tensor; loadCheckpoint
 *            refuses a checkpoint whose bytes no longer match it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LogolabError } from '../src/errors.js';
import { SafetensorsFile, writeSafetensors, type WriteTensor } from '../src/io/safetensors.js';
import { firstNonFinite, nonFiniteName } from '../src/util/finite.js';
import { log } from '../src/util/log.js';
import type { TrainingConfig } from './config.js';
import type { AdamWState } from './optim/adamw.js';

export const CHECKPOINT_FORMAT = 'logolab-train-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface EpochRecord {
  epoch: number;
  /** null when every step of the epoch was skipped */
  train_loss: number | null;
  lr: number;
  /** null when this process ran none of the epoch's steps (resumed after its last step) */
  images_per_s: number | null;
  seconds: number;
  /** share of the epoch's training time spent waiting for batches, loader start-up excluded (absent in older checkpoints; null as images_per_s) */
  data_wait_fraction?: number | null;
  /** the process's first batch, in the epoch where it fell: worker start-up with nothing prefetched yet */
  loader_startup_s?: number;
  /** validation metrics (absent when this epoch was not evaluated) */
  val?: Record<string, number>;
  nonfinite_steps: number;
  /** the backend this epoch's steps (the last process's, after a resume) ran on: images_per_s is its figure (absent in older checkpoints) */
  backend?: string;
}

/** How the trained model is built (enough for export to rebuild it). */
export interface ModelDescription {
  /** absolute model folder (or preset:…), resolved when training started */
  base_model: string;
  /** training/provenance.ts baseFingerprint of the base model at training start (absent in old checkpoints) */
  base_fingerprint?: string;
  /** when base_model was given as an HF repo id: that id (as given, e.g. org/name@v1) and the commit of the cached snapshot used */
  base_model_hub?: { ref: string; commit: string };
  family: string;
  vision_config: Record<string, unknown>;
  /** LoRA config (as src/models/lora validates it), or null for full training */
  lora: Record<string, unknown> | null;
  /** canonical names of trainable tensors (full training) — 'layers.<i>.<target>.lora_A|B' for LoRA */
  trainable: string[];
  head: string;
}

export interface TrainState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** epochs fully completed */
  epoch: number;
  /** micro-batches done in epoch `epoch` (0 at an epoch boundary; > 0 for a mid-epoch save) */
  batch_in_epoch: number;
  /** optimizer steps completed = the scheduler's position */
  global_step: number;
  scheduler: { kind: 'cosine_with_warmup'; base_lr: number; warmup_steps: number; total_steps: number; min_lr_ratio: number };
  /** state of the trainer's RNG (src/util/rng) */
  rng: object;
  adam_t: number;
  /** validation separation at the best epoch */
  best_separation: number | null;
  /** the best epoch's value of config.best_metric (val_loss negated, so higher is better); absent in old checkpoints */
  best_score?: number | null;
  best_epoch: number | null;
  patience_counter: number;
  nonfinite_steps: number;
  /** running sums of the epoch in progress (mid-epoch saves) */
  epoch_loss_sum: number;
  epoch_loss_count: number;
  history: EpochRecord[];
  config: TrainingConfig;
  model: ModelDescription;
  /** the data the run trains and validates on (dataDigest; absent in older checkpoints) */
  data_digest?: DataDigest;
  /** why it was written: 'epoch' | 'best' | 'interrupt' | 'final' */
  reason: string;
  saved_at: string;
}

/**
 * What a run's split is drawn from: db_path's crops in the order the split reads them (logo name,
 * crop id, file, source image, box, size). With the config (seed, split fractions and level) they
 * fix the train and validation sets, so a resume on the same digest gets the same split, and one on
 * a re-prepared or replaced db_path (one brand more reshuffles every later split) does not.
 * `files` covers what the listing does not: the crop files' sizes (a re-rendered or replaced image
 * under the same name is other pixels; a size is read per file, the bytes are not: fast on
 * LogoDet-3K's ~200k crops, and a copy keeps it).
 */
export interface DataDigest {
  /** sha256 over the listing */
  sha256: string;
  logos: number;
  crops: number;
  /** sha256 over the crop files' sizes in listing order (absent in older checkpoints) */
  files?: string;
}

/**
 * The digest of a data listing (src/data/db.ts referenceCropsByLogo: `file` relative to the data
 * folder, so a moved copy matches) and, with `files`, of the sizes of the files at `path`.
 */
export function dataDigest(byLogo: ReadonlyMap<string, readonly { id: number; file: string; path: string; sourceImageId: number | null; box: readonly number[]; width: number; height: number }[]>, opts: { files?: boolean } = {}): DataDigest {
  const h = createHash('sha256');
  const f = createHash('sha256');
  let crops = 0;
  for (const [logo, items] of byLogo) {
    for (const it of items) {
      h.update(`${logo}\t${it.id}\t${it.file}\t${it.sourceImageId}\t${it.box.join(',')}\t${it.width}x${it.height}\n`);
      // a missing file is a size too (-1): the loader reports it when it reads the crop
      if (opts.files) f.update(`${statSync(it.path, { throwIfNoEntry: false })?.size ?? -1}\n`);
    }
    crops += items.length;
  }
  return { sha256: `sha256:${h.digest('hex')}`, logos: byLogo.size, crops, ...(opts.files ? { files: `sha256:${f.digest('hex')}` } : {}) };
}

/** How the data differs from what `source` was trained on, in words; null when it is the same. */
export function dataDigestDifference(recorded: DataDigest, now: DataDigest): string | null {
  if (recorded.sha256 === now.sha256) {
    // an older checkpoint has no file digest: the listing is all it can be checked against
    if (recorded.files === undefined || now.files === undefined || recorded.files === now.files) return null;
    return `the same ${recorded.logos} logos / ${recorded.crops} crops listed, but crop files of other sizes: re-rendered or replaced images`;
  }
  const size = (d: DataDigest) => `${d.logos} logos / ${d.crops} crops`;
  return recorded.logos === now.logos && recorded.crops === now.crops
    ? `the same ${size(now)}, but other crops (ids, files or boxes)`
    : `${size(now)}, trained on ${size(recorded)}`;
}

export interface Checkpoint {
  state: TrainState;
  params: Map<string, { shape: number[]; data: Float32Array }>;
  optimizer: AdamWState;
}

export function checkpointPath(dir: string, name: string): string {
  return join(dir, name.endsWith('.ckpt') ? name : `${name}.ckpt`);
}

export function saveCheckpoint(path: string, ck: Checkpoint): void {
  const tensors = new Map<string, WriteTensor>();
  for (const [name, p] of ck.params) {
    tensors.set(`param/${name}`, { shape: p.shape, data: p.data });
    const m = ck.optimizer.m[name];
    const v = ck.optimizer.v[name];
    if (!m || !v) throw new Error(`internal: no optimizer moments for '${name}'`);
    tensors.set(`adam_m/${name}`, { shape: p.shape, data: m });
    tensors.set(`adam_v/${name}`, { shape: p.shape, data: v });
  }
  const state: TrainState = { ...ck.state, adam_t: ck.optimizer.t };
  // JSON has no Infinity/NaN: the state holds finite numbers or null by construction
  const json = JSON.stringify(state);
  writeSafetensors(path, tensors, { format: CHECKPOINT_FORMAT, logolab_checkpoint: json, logolab_checksum: checkpointChecksum(json, tensors) });
}

/**
 * sha256 over the state JSON and every tensor (name, shape, float32 bytes, in name order): a
 * flipped bit anywhere in what resume/export use changes it.
 */
export function checkpointChecksum(stateJson: string, tensors: Map<string, { shape: number[]; data: Float32Array | ArrayBufferView }>): string {
  const h = createHash('sha256');
  h.update(stateJson);
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    const d = t.data;
    h.update(`\n${name}:${JSON.stringify(t.shape)}:`);
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return `sha256:${h.digest('hex')}`;
}

export function loadCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new LogolabError(`${path}: checkpoint not found`);
  const f = SafetensorsFile.open(path);
  try {
    const meta = f.metadata;
    if (meta.format !== CHECKPOINT_FORMAT || !meta.logolab_checkpoint) throw new LogolabError(`${path}: not a logolab training checkpoint (no '${CHECKPOINT_FORMAT}' metadata)`);
    let state: TrainState;
    try {
      state = JSON.parse(meta.logolab_checkpoint) as TrainState;
    } catch (e) {
      throw new LogolabError(`${path}: corrupt checkpoint state (${(e as Error).message})`);
    }
    if (state.version !== CHECKPOINT_VERSION) throw new LogolabError(`${path}: checkpoint version ${state.version}, this logolab reads ${CHECKPOINT_VERSION}`);
    const params = new Map<string, { shape: number[]; data: Float32Array }>();
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    const all = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const key of f.keys()) {
      const slash = key.indexOf('/');
      const kind = key.slice(0, slash);
      const name = key.slice(slash + 1);
      const t = f.read(key);
      if (t.dtype !== 'float32') throw new LogolabError(`${path}: tensor '${key}' is not float`);
      all.set(key, { shape: t.shape, data: t.data as Float32Array });
      if (kind === 'param') params.set(name, { shape: t.shape, data: t.data as Float32Array });
      else if (kind === 'adam_m') m[name] = t.data as Float32Array;
      else if (kind === 'adam_v') v[name] = t.data as Float32Array;
      else throw new LogolabError(`${path}: unexpected tensor '${key}'`);
    }
    const sum = meta.logolab_checksum;
    if (sum === undefined) log('warn', `${path}: no checksum (written by an older logolab); its integrity cannot be verified`);
    else if (sum !== checkpointChecksum(meta.logolab_checkpoint, all))
      throw new LogolabError(`${path}: checksum mismatch — the checkpoint is damaged (a changed or corrupted byte); use another checkpoint (e.g. best.ckpt or epoch_N.ckpt)`);
    for (const [key, t] of all) {
      const i = firstNonFinite(t.data);
      if (i >= 0) throw new LogolabError(`${path}: tensor '${key}' holds ${nonFiniteName(t.data[i]!)} at index ${i}`);
    }
    for (const name of params.keys()) if (!m[name] || !v[name]) throw new LogolabError(`${path}: optimizer moments missing for '${name}'`);
    return { state, params, optimizer: { t: state.adam_t, m, v } };
  } finally {
    f.close();
  }
}

/**
 * A checkpoint's state without reading (or verifying) its tensors: enough to tell which run and
 * epoch wrote it. null when the file is absent or is not a readable logolab checkpoint.
 */
export function peekCheckpointState(path: string): TrainState | null {
  if (!existsSync(path)) return null;
  try {
    const f = SafetensorsFile.open(path);
    try {
      const json = f.metadata.logolab_checkpoint;
      return f.metadata.format === CHECKPOINT_FORMAT && json ? (JSON.parse(json) as TrainState) : null;
    } finally {
      f.close();
    }
  } catch {
    return null; // unreadable: not the checkpoint looked for (loadCheckpoint reports why when it is used)
  }
}

/**
 * Removes temp files left by writers that were killed (names like `.last.ckpt.<pid>.<n>.tmp`, and
 * the history's `.training_history.json.<pid>.<n>.tmp`, written beside them).
 */
export function cleanStaleTemps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const gone: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^\.(?:.+\.ckpt|training_history\.json)\.(\d+)\.\d+\.tmp$/.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    rmSync(join(dir, f), { force: true });
    gone.push(f);
  }
  return gone;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
