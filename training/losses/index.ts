/** Loss factory: getLoss('infonce' | 'milnce' | 'supcon' | 'triplet' | 'combined', options). */
import { LogolabError } from '../../src/errors.js';
import { combined, type CombinedOptions } from './combined.js';
import { infonce } from './infonce.js';
import { milnce } from './milnce.js';
import { supcon } from './supcon.js';
import { triplet } from './triplet.js';
import type { LossFn } from './common.js';
import { LOSS_NAMES } from './names.js';
import { installFastMatMulGradient } from '../matmul_grad.js';

// Every training backward pass goes through a loss: install the wasm-friendly matmul gradient here
// (and in recompute.ts) so the plain path gets it too. Same values as tfjs's own gradient.
installFastMatMulGradient();

export type { LossFn } from './common.js';
export { infonce, milnce, supcon, triplet, combined };

export { LOSS_NAMES, type LossName } from './names.js';
export type LossOptions = CombinedOptions;

export function getLoss(name: string, opts: LossOptions = {}): LossFn {
  const t = opts.temperature ?? 0.07;
  // the config's bound (training/config.ts), for callers of the API too
  if (!(t >= 1e-4) || !Number.isFinite(t)) throw new LogolabError(`loss: temperature must be ≥ 0.0001 (cosine / temperature would swamp the −1e9 masks or overflow float32), got ${opts.temperature}`);
  if (opts.margin !== undefined && !(opts.margin >= 0)) throw new LogolabError(`loss: margin must be ≥ 0, got ${opts.margin}`);
  switch (name) {
    case 'infonce':
      return infonce({ temperature: t });
    case 'milnce':
      return milnce({ temperature: t });
    case 'supcon':
      return supcon({ temperature: t });
    case 'triplet':
      return triplet({ margin: opts.margin });
    case 'combined':
      return combined({ ...opts, temperature: t });
    default:
      throw new LogolabError(`loss: unknown loss '${name}' (expected one of ${LOSS_NAMES.join(', ')})`);
  }
}
