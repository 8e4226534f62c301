/**
 * The demo's plan: which data, which training config, which evaluation sample, per mode.
 *   default — ~4 min on 2 cores; quick — 1–2 min; tiny — well under a minute (the test's mode).
 * Everything is seeded, so a mode always builds the same data and the same sample.
 */
import { LogolabError } from '../errors.js';

export type DemoMode = 'default' | 'quick' | 'tiny';
export const DEMO_MODES: readonly DemoMode[] = ['default', 'quick', 'tiny'];

/** The shipped baseline (scripts/train-baseline.sh, models/logolab-tiny-clip/MODEL_CARD.md). */
export const BASELINE_MODEL = 'models/logolab-tiny-clip';

export interface DemoPlan {
  mode: DemoMode;
  /** synth of held-out brand set B (no set-A slug; selectBrands skips set-A logos under other names) */
  synth: { brands: number; imagesPerBrand: number; seed: number; minSide: number; maxSide: number };
  /** LoRA training config (configs/demo_*.yaml); the demo overrides its paths */
  trainConfig: string;
  /** training overrides per mode (CLI kebab-case keys) */
  trainOverrides: Record<string, string>;
  /** the evaluation sample and matching setting (same for both models) */
  evalArgs: string[];
}

const MATCHING = ['--matching-method', 'margin', '--threshold', '0.9', '--margin', '0', '--seed', '42', '--detector', 'gt-boxes'];

export function demoPlan(mode: DemoMode): DemoPlan {
  switch (mode) {
    case 'default':
      return {
        mode,
        synth: { brands: 40, imagesPerBrand: 90, seed: 7, minSide: 128, maxSide: 192 },
        trainConfig: 'configs/demo_default.yaml',
        trainOverrides: {},
        evalArgs: ['--num-logos', '40', '--refs-per-logo', '10', '--positive-samples', '10', '--negative-samples', '10', ...MATCHING],
      };
    case 'quick':
      return {
        mode,
        synth: { brands: 16, imagesPerBrand: 90, seed: 7, minSide: 128, maxSide: 160 },
        trainConfig: 'configs/demo_quick.yaml',
        trainOverrides: {},
        evalArgs: ['--num-logos', '16', '--refs-per-logo', '10', '--positive-samples', '10', '--negative-samples', '10', ...MATCHING],
      };
    case 'tiny':
      return {
        mode,
        synth: { brands: 8, imagesPerBrand: 8, seed: 7, minSide: 96, maxSide: 128 },
        trainConfig: 'configs/demo_quick.yaml',
        trainOverrides: { 'max-epochs': '1', 'batches-per-epoch': '2', 'logos-per-batch': '8', 'val-batches': '1', 'warmup-steps': '0' },
        evalArgs: ['--num-logos', '8', '--refs-per-logo', '2', '--positive-samples', '2', '--negative-samples', '4', ...MATCHING],
      };
    default:
      throw new LogolabError(`demo mode '${String(mode)}' is not one of ${DEMO_MODES.join(', ')}`);
  }
}
