/**
 * Weight loading in the style of nanoGPT's `from_pretrained`: each family declares an explicit key
 * map (canonical name ← checkpoint key, expected on-disk shape, transform), the loader asserts
 * every expected key and shape, applies the transforms, and reports the checkpoint keys it did not
 * use (text tower of a full CLIPModel, `position_ids` buffers, DINOv2's `mask_token`, ...).
 *
 * Canonical names are the HF names relative to the vision tower (`encoder.layers.3.self_attn.q_proj.weight`);
 * the checkpoint key adds the detected prefix (`vision_model.`, `dinov2.`, or none).
 *
 * Transforms (the "transpose list"):
 *   'linear': torch Linear weight [out, in] → [in, out]   (pre-transposed for plain matmul)
 *   'conv'  : patch conv weight [D, C, p, p] → [p, p, C, D]  (tfjs NHWC conv2d filter)
 *   'none'  : as stored
 */
import * as tf from '@tensorflow/tfjs';
import { LogolabError } from '../../errors.js';
import { numel, type TensorStore, type TensorInfo } from '../../io/safetensors.js';
import { firstNonFinite, nonFiniteName } from '../../util/finite.js';

export type Transform = 'none' | 'linear' | 'conv';

export interface KeyEntry {
  /** canonical name (HF name relative to the vision tower) */
  name: string;
  /** key in the checkpoint */
  key: string;
  /** shape as stored in the checkpoint (PyTorch layout) */
  shape: number[];
  transform: Transform;
  /** how to fill it in a random model */
  init: 'normal' | 'ones' | 'zeros' | { constant: number };
}

export function entry(name: string, key: string, shape: number[], transform: Transform = 'none', init: KeyEntry['init'] = 'normal'): KeyEntry {
  return { name, key, shape, transform, init };
}

/** Linear weight + bias entries for HF module path `mod` (canonical) under checkpoint prefix `p`. */
export function linearEntries(mod: string, p: string, inDim: number, outDim: number, bias = true): KeyEntry[] {
  const out = [entry(`${mod}.weight`, `${p}${mod}.weight`, [outDim, inDim], 'linear')];
  if (bias) out.push(entry(`${mod}.bias`, `${p}${mod}.bias`, [outDim], 'none', 'zeros'));
  return out;
}

export function layerNormEntries(mod: string, p: string, dim: number): KeyEntry[] {
  return [entry(`${mod}.weight`, `${p}${mod}.weight`, [dim], 'none', 'ones'), entry(`${mod}.bias`, `${p}${mod}.bias`, [dim], 'none', 'zeros')];
}

/** Checks that every expected key exists with the expected shape (before reading any data). */
export function checkKeyMap(entries: KeyEntry[], has: (k: string) => boolean, info: (k: string) => Pick<TensorInfo, 'shape'>, source: string): void {
  for (const e of entries) {
    if (!has(e.key)) throw new LogolabError(`${source}: missing tensor '${e.key}'`);
    const s = info(e.key).shape;
    if (s.length !== e.shape.length || s.some((d, i) => d !== e.shape[i])) {
      throw new LogolabError(`${source}: tensor '${e.key}' has shape ${JSON.stringify(s)}, expected ${JSON.stringify(e.shape)}`);
    }
  }
}

/** Keys the checkpoint holds that the key map does not use, summarised by top-level group. */
export function unusedKeys(entries: KeyEntry[], keys: string[]): string[] {
  const used = new Set(entries.map((e) => e.key));
  return keys.filter((k) => !used.has(k)).sort();
}

/** 'text_model.* (196 tensors), logit_scale, ...' */
export function summariseKeys(keys: string[]): string {
  const groups = new Map<string, number>();
  for (const k of keys) {
    const g = /^(text_model|text_projection|vision_model\.encoder|encoder)\./.test(k) ? k.split('.')[0]! + '.*' : k;
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  return [...groups.entries()].map(([g, n]) => (n > 1 ? `${g} (${n} tensors)` : g)).join(', ');
}

/**
 * Applies a transform on the host (before the upload), so the backend receives each tensor once in
 * its final layout: no second backend copy per tensor, which keeps the wasm heap (and peak RSS) at
 * the model's size while loading.
 */
export function hostTransform(data: Float32Array, shape: number[], tr: Transform): { data: Float32Array; shape: number[] } {
  if (tr === 'none') return { data, shape };
  if (tr === 'linear') {
    const [r, c] = shape as [number, number];
    const out = new Float32Array(r * c);
    const B = 32; // blocked: both sides stay in cache
    for (let i0 = 0; i0 < r; i0 += B) {
      const i1 = Math.min(i0 + B, r);
      for (let j0 = 0; j0 < c; j0 += B) {
        const j1 = Math.min(j0 + B, c);
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * r + i] = data[i * c + j]!;
      }
    }
    return { data: out, shape: [c, r] };
  }
  // conv: [D, C, p, q] → [p, q, C, D]
  const [d, ch, p, q] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let o = 0; o < d; o++)
    for (let c = 0; c < ch; c++)
      for (let y = 0; y < p; y++) for (let x = 0; x < q; x++) out[((y * q + x) * ch + c) * d + o] = data[((o * ch + c) * p + y) * q + x]!;
  return { data: out, shape: [p, q, ch, d] };
}

/** The shape a tensor has in the model (after its transform). */
export function modelShape(e: KeyEntry): number[] {
  const s = e.shape;
  if (e.transform === 'linear') return [s[1]!, s[0]!];
  if (e.transform === 'conv') return [s[2]!, s[3]!, s[1]!, s[0]!];
  return s;
}

/**
 * The inverse of the load: each entry's model tensor back in its on-disk (PyTorch) layout, keyed by
 * the checkpoint key, for writing an HF-layout model.safetensors.
 */
export function onDiskTensors(entries: KeyEntry[], named: Map<string, tf.Tensor>): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of entries) {
    const t = named.get(e.name);
    if (!t) throw new Error(`internal: model has no tensor '${e.name}'`);
    const onDisk = tf.tidy(() => (e.transform === 'linear' ? t.transpose([1, 0]) : e.transform === 'conv' ? t.transpose([3, 2, 0, 1]) : t.clone()));
    try {
      const shape = onDisk.shape;
      if (shape.length !== e.shape.length || shape.some((d, i) => d !== e.shape[i])) throw new Error(`internal: '${e.key}' shape ${JSON.stringify(shape)} ≠ ${JSON.stringify(e.shape)}`);
      out.set(e.key, { shape: [...shape], data: onDisk.dataSync() as Float32Array });
    } finally {
      onDisk.dispose();
    }
  }
  return out;
}

function upload(data: Float32Array, e: KeyEntry): tf.Tensor {
  const t = hostTransform(data, e.shape, e.transform);
  return tf.tensor(t.data, t.shape, 'float32');
}

/** Reads, checks and transforms every entry into a backend tensor (model layout). */
export function loadTensors(store: TensorStore, entries: KeyEntry[]): Map<string, tf.Tensor> {
  checkKeyMap(entries, (k) => store.has(k), (k) => store.info(k), store.source);
  const out = new Map<string, tf.Tensor>();
  try {
    for (const e of entries) {
      const host = store.read(e.key);
      if (host.dtype !== 'float32') throw new LogolabError(`${store.source}: tensor '${e.key}' has integer dtype ${store.info(e.key).dtype}, expected a float tensor`);
      // a NaN/Inf weight gives NaN embeddings, which compare false with every threshold
      const bad = firstNonFinite(host.data);
      if (bad >= 0) throw new LogolabError(`${store.source}: tensor '${e.key}' holds ${nonFiniteName(host.data[bad]!)} at index ${bad}; refusing to load a broken checkpoint`);
      out.set(e.name, upload(host.data as Float32Array, e));
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}

/** mulberry32: a tiny, fast seeded generator for filling large random tensors. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Host data (checkpoint layout) for one entry of a random model. 'normal' is uniform with std
 * `std` (cheap and enough for shapes/benchmarks/tests); seeded per tensor so any entry is reproducible.
 */
export function randomHostData(e: KeyEntry, seed: number, std = 0.02): Float32Array {
  const n = numel(e.shape);
  const out = new Float32Array(n);
  if (e.init === 'ones') out.fill(1);
  else if (e.init === 'zeros') return out;
  else if (typeof e.init === 'object') out.fill(e.init.constant);
  else {
    const r = mulberry32(seed);
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * a;
  }
  return out;
}

/** Backend tensors of a random model (model layout), from the same key map as a checkpoint.
 * `stdOf` gives a 'normal' entry's std (default 0.02 for every tensor). */
export function randomTensors(entries: KeyEntry[], seed: number, stdOf?: (e: KeyEntry) => number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  entries.forEach((e, i) => {
    // iid random values: generated straight in the model layout (a transpose would change nothing)
    const data = randomHostData(e, (seed * 1000003 + i * 7919) >>> 0, stdOf && e.init === 'normal' ? stdOf(e) : undefined);
    out.set(e.name, tf.tensor(data, modelShape(e), 'float32'));
  });
  return out;
}

export function parameterCount(entries: KeyEntry[]): number {
  return entries.reduce((s, e) => s + numel(e.shape), 0);
}
