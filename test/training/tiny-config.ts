/** The tiny full-training config shared by the trainer tests (preset:tiny, P×K 4×4, accumulation 2). */
import { parseConfig, type TrainingConfig } from '../../training/config.js';

export function cfg(over: Record<string, unknown>): TrainingConfig {
  return parseConfig(
    {
      base_model: 'preset:tiny', lora_r: 0, freeze_layers: 0, logos_per_batch: 4, samples_per_logo: 4, gradient_accumulation_steps: 2,
      batches_per_epoch: 8, val_batches: 10, batch_size: 16, warmup_steps: 2, learning_rate: 1e-3, weight_decay: 0.01, max_epochs: 3,
      temperature: 0.1, seed: 7, patience: 5, save_every_n_epochs: 2, mixed_precision: false, ...over,
    },
    'test config',
  );
}
