/**
 * P×K batch sampler (the Python original's LogoContrastiveDataset / BalancedBatchSampler): each batch
 * holds P = logosPerBatch DISTINCT logos × K = samplesPerLogo items of each, drawn without
 * replacement when the logo has ≥ K items and with replacement only when it has fewer.
 *
 * Deterministic and resumable: batch b of epoch e is drawn from its own generator seeded by
 * (seed, e, b), so a trainer resuming mid-epoch gets exactly the batches it would have seen.
 *
 * Differences from the reference (fixed): the reference silently shrank P to the number of
 * available logos (a batch of fewer classes changes the loss); here that is an error naming the
 * split. Its unused `valid_logos` bookkeeping is gone.
 */
import { LogolabError } from '../../src/errors.js';
import { makeRng, type Rng } from '../../src/util/rng.js';
import { log } from '../../src/util/log.js';

export interface PxKOptions {
  logosPerBatch: number;
  samplesPerLogo: number;
  batchesPerEpoch: number;
  seed: number;
  /** name used in error messages, e.g. 'train split' */
  name?: string;
}

export interface PxKBatch<T> {
  epoch: number;
  index: number;
  /** [P·K] logo name per slot, grouped by logo (K consecutive slots per logo) */
  logos: string[];
  /** [P·K] label per slot */
  labels: Int32Array;
  /** [P·K] item per slot */
  items: T[];
  /** logos of this batch sampled with replacement (had fewer than K items) */
  withReplacement: string[];
}

function checkPositiveInt(v: number, key: string): void {
  if (!Number.isInteger(v) || v < 1) throw new LogolabError(`${key}: ${String(v)} is not a positive integer`);
}

export class PxKSampler<T> {
  readonly opts: Required<PxKOptions>;
  /** logos with at least one item, input order */
  readonly logos: string[];
  private readonly itemsOf: Map<string, T[]>;
  private readonly labelOf: Map<string, number>;

  constructor(logoToItems: Map<string, T[]>, labelOf: Map<string, number>, opts: PxKOptions) {
    this.opts = { name: 'dataset', ...opts };
    const name = this.opts.name;
    checkPositiveInt(opts.logosPerBatch, 'logos_per_batch');
    checkPositiveInt(opts.samplesPerLogo, 'samples_per_logo');
    checkPositiveInt(opts.batchesPerEpoch, 'batches_per_epoch');
    if (!Number.isInteger(opts.seed)) throw new LogolabError(`seed: ${String(opts.seed)} is not an integer`);
    this.itemsOf = new Map([...logoToItems].filter(([, v]) => v.length > 0));
    this.logos = [...this.itemsOf.keys()];
    for (const l of this.logos) if (!labelOf.has(l)) throw new LogolabError(`${name}: logo '${l}' has no label`);
    this.labelOf = labelOf;
    if (this.logos.length < opts.logosPerBatch)
      throw new LogolabError(
        `${name}: logos_per_batch = ${opts.logosPerBatch} but only ${this.logos.length} logos have images; lower logos_per_batch or use more data`,
      );
    // Legal (the reference allowed it, and small image-level val splits hit it), but worth a word:
    // K copies of one image are the only positives (distinct only through augmentation).
    const short = this.logos.filter((l) => this.itemsOf.get(l)!.length < opts.samplesPerLogo);
    if (opts.samplesPerLogo > 1 && this.logos.every((l) => this.itemsOf.get(l)!.length < 2))
      log('warn', `${name}: every logo has a single image; its ${opts.samplesPerLogo} samples per batch are copies of it`);
    else if (short.length)
      log('warn', `${name}: samples_per_logo ${opts.samplesPerLogo} is more than the images of ${short.length} of ${this.logos.length} logos (${short.slice(0, 5).map((l) => `${l}: ${this.itemsOf.get(l)!.length}`).join(', ')}${short.length > 5 ? ', …' : ''}); their samples repeat images`);
  }

  get length(): number {
    return this.opts.batchesPerEpoch;
  }

  /** Items of a logo (for the loader's refill of a corrupt slot). */
  itemsOfLogo(logo: string): readonly T[] {
    return this.itemsOf.get(logo) ?? [];
  }

  /** The generator of batch (epoch, index). */
  rngFor(epoch: number, index: number): Rng {
    return makeRng(`pxk:${this.opts.seed}:${epoch}:${index}`);
  }

  batch(epoch: number, index: number): PxKBatch<T> {
    const { logosPerBatch: P, samplesPerLogo: K } = this.opts;
    const rng = this.rngFor(epoch, index);
    const chosen = sampleWithout(rng, this.logos, P);
    const logos: string[] = [];
    const items: T[] = [];
    const labels = new Int32Array(P * K);
    const withReplacement: string[] = [];
    for (const logo of chosen) {
      const pool = this.itemsOf.get(logo)!;
      let picked: T[];
      if (pool.length >= K) picked = sampleWithout(rng, pool, K);
      else {
        withReplacement.push(logo);
        picked = Array.from({ length: K }, () => pool[rng.int(pool.length)]!);
      }
      for (const it of picked) {
        labels[items.length] = this.labelOf.get(logo)!;
        logos.push(logo);
        items.push(it);
      }
    }
    return { epoch, index, logos, labels, items, withReplacement };
  }

  /** The batches of one epoch, from `start` (resume) to batchesPerEpoch. */
  *epoch(epoch: number, start = 0): Generator<PxKBatch<T>> {
    for (let b = start; b < this.opts.batchesPerEpoch; b++) yield this.batch(epoch, b);
  }
}

/** k distinct elements, uniformly (partial Fisher–Yates on a copy). */
export function sampleWithout<T>(rng: Rng, a: readonly T[], k: number): T[] {
  if (k > a.length) throw new LogolabError(`cannot sample ${k} distinct of ${a.length}`);
  const c = a.slice();
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(c.length - i);
    [c[i], c[j]] = [c[j]!, c[i]!];
  }
  return c.slice(0, k);
}
