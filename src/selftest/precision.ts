/**
 * The float precision `doctor --selftest` checks on tensorflow-gpu.
 *
 * TensorFlow 2.9 (the libtensorflow of tfjs-node-gpu 4.22) runs float32 matmuls and convolutions
 * on TF32 tensor cores by default on Ampere and newer GPUs (A100, H100/H200, RTX 30xx/40xx): a
 * 10-bit mantissa, so outputs differ from fp32 by about 1e-3. The selftest's tolerances are the
 * fp32 parity tests' (1e-4 on outputs, 1e-5 on losses), so with TF32 on it would fail on a correct
 * setup, indistinguishable from a real fault. It therefore checks the fp32 kernels: it sets
 * NVIDIA_TF32_OVERRIDE=0, which cuBLAS and cuDNN read when TensorFlow initialises them — so it must
 * be in the environment before libtensorflow loads, i.e. before initBackend. A value the user set is
 * kept, and the output says which precision was checked. Training keeps TF32 (configs say so).
 */
import { initBackend, type BackendReport } from '../backend/index.js';

export const TF32_ENV = 'NVIDIA_TF32_OVERRIDE';

const TRAINING_NOTE = 'training runs with TF32 on Ampere and newer GPUs (TensorFlow\'s default, as the configs say): its rounding (~1e-3) is not what this table checks';

/**
 * Sets NVIDIA_TF32_OVERRIDE=0 unless the user set it; returns the line that says what the
 * tensorflow-gpu selftest checks.
 */
export function selftestPrecision(env: NodeJS.ProcessEnv = process.env): string {
  const given = env[TF32_ENV];
  if (given === undefined) {
    env[TF32_ENV] = '0';
    return `precision: fp32 kernels (${TF32_ENV}=0 set for this selftest: TF32 off); ${TRAINING_NOTE}`;
  }
  if (given === '0') return `precision: fp32 kernels (${TF32_ENV}=0, set by you); ${TRAINING_NOTE}`;
  // any other value leaves TensorFlow's default, TF32, in place (NVIDIA: only 0 overrides)
  return `precision: TF32 on Ampere and newer GPUs (${TF32_ENV}=${given} set by you, so the selftest left TF32 on): ` +
    `failures near 1e-3 against the fp32 tolerances below can be TF32 rounding, not a fault; unset ${TF32_ENV} to check the fp32 kernels`;
}

/**
 * The selftest's backend: TF32 turned off before the backend (and so libtensorflow) loads.
 * `precision` is the line for the output, on tensorflow-gpu (the other backends compute fp32).
 * `init` is injectable for tests (no tfjs-node-gpu needed).
 */
export async function initSelftestBackend(
  requested: string | undefined,
  init: (requested?: string, opts?: { quiet?: boolean }) => Promise<BackendReport> = initBackend,
): Promise<{ backend: BackendReport; precision: string | null }> {
  // before init, whatever `requested` is: `auto` may land on tensorflow-gpu too
  const precision = selftestPrecision();
  const backend = await init(requested, { quiet: true });
  return { backend, precision: backend.name === 'tensorflow-gpu' ? precision : null };
}
