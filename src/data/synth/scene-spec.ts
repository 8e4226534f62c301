/**
 * What each scene of `logolab synth` holds: the logos it annotates and its unlabelled distractors,
 * drawn from the scene's own generator (writer.ts seeds it by seed, brand and index).
 */
import type { Rng } from '../../util/rng.js';
import type { SynthOptions } from './options.js';
import type { Job } from './plan.js';
import type { LabelledTarget, SceneSpec } from './scene.js';
import type { Brand, Shape } from './sources.js';

/** labelBy 'brand': the job's brand (a second copy a quarter of the time, another selected brand 30 %), 0–2 unlabelled distractors (1–3 in a negative scene). */
export function sceneSpec(rng: Rng, job: Job, selected: Brand[], pool: Brand[], o: Required<Pick<SynthOptions, 'minSide' | 'maxSide'>>) {
  const targets: Brand[] = [];
  if (job.kind === 'brand') {
    targets.push(job.brand!);
    if (rng.next() < 0.25) targets.push(job.brand!);
    if (selected.length > 1 && rng.next() < 0.3) {
      let other = selected[rng.int(selected.length)]!;
      if (other.slug === job.brand!.slug) other = selected[(selected.indexOf(other) + 1) % selected.length]!;
      targets.push(other);
    }
  }
  const nd = job.kind === 'negative' ? 1 + rng.int(3) : rng.int(3);
  const distractors = pool.length ? Array.from({ length: nd }, () => pool[rng.int(pool.length)]!) : [];
  return { targets, distractors, minSide: o.minSide, maxSide: o.maxSide };
}

const asTarget = (s: Shape): LabelledTarget => ({ name: s.label, key: s.brand.slug, renditions: s.renditions });

/** labelBy 'shape': the job's own shape, T − 1 others in rotation, 0–2 unlabelled distractors of other brands. */
export function shapeSceneSpec(rng: Rng, job: Job, all: Shape[], T: number, pool: Brand[], o: Required<Pick<SynthOptions, 'minSide' | 'maxSide'>>): SceneSpec {
  const N = all.length;
  const i = job.shape!;
  const labelled = [asTarget(all[i]!)];
  const stride = Math.max(1, Math.floor(N / T));
  for (let k = 1; k < T; k++) {
    const j = (i + k * stride + job.index - 1) % N;
    if (j !== i) labelled.push(asTarget(all[j]!));
  }
  const own = new Set(labelled.map((t) => t.key));
  const distractors: Brand[] = [];
  for (let n = rng.int(3); n > 0; n--) {
    const b = pool[rng.int(pool.length)]!;
    if (!own.has(b.slug)) distractors.push(b);
  }
  return { targets: [], labelledTargets: labelled, distractors, minSide: o.minSide, maxSide: o.maxSide };
}
