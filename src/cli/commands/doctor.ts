/** `logolab doctor`: what backends are available here, versions, and what the GPU backend needs. */
import type { CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { BACKEND_CHOICES, gpuVisible, initBackend, packageVersion } from '../../backend/index.js';

export const command: CommandModule = {
  command: 'doctor',
  describe: 'report available backends, versions and GPU requirements',
  handler: async () => {
    const lines: string[] = [];
    lines.push(`node ${process.version} (${process.platform}-${process.arch})`);
    for (const p of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'sharp', 'better-sqlite3']) {
      lines.push(`${p}: ${packageVersion(p) ?? 'not installed'}`);
    }
    lines.push('backends:');
    for (const b of BACKEND_CHOICES.filter((b) => b !== 'auto')) {
      try {
        const r = await initBackend(b, { quiet: true });
        lines.push(`  ${b}: available${r.notes.length ? ` (${r.notes.join(', ')})` : ''}`);
      } catch (e) {
        lines.push(`  ${b}: unavailable — ${(e as Error).message.replace(/^--backend \S+: not available: /, '')}`);
      }
    }
    // [native-kernels] which cpu kernels run natively (OpenBLAS addon), or why none do
    const nk = (await import('../../backend/native.js')).nativeKernelsStatus();
    lines.push(nk.active.length
      ? `native cpu kernels: active (${nk.active.join(', ')}; OpenBLAS ×${nk.threads} threads${nk.blas ? `, ${nk.blas}` : ''})`
      : `native cpu kernels: ${nk.available ? 'built, not active (cpu backend not initialised)' : `off — ${nk.why}`}`);
    const auto = await initBackend('auto', { quiet: true });
    lines.push(`auto picks: ${auto.name}`);
    // per workload (src/backend/auto-choice.ts): which CPU backend goes first, from measurements
    for (const workload of ['encoder', 'detector', 'train'] as const) {
      const r = await initBackend('auto', { quiet: true, workload });
      lines.push(`  ${workload}: ${r.name}${r.notes.length ? ` — ${r.notes[0]}` : ''}`);
    }
    const gpu = gpuVisible();
    const ldPath = process.env.LD_LIBRARY_PATH ?? '';
    const findLib = (name: string) =>
      ldPath.split(':').concat(['/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu']).filter(Boolean).find((d) => existsSync(`${d}/${name}`)) ?? null;
    lines.push('GPU backend (@tensorflow/tfjs-node-gpu 4.22 = TensorFlow 2.x C library) needs:');
    lines.push('  NVIDIA driver, CUDA 11.x runtime (libcudart.so.11.0, libcublas.so.11) and cuDNN 8 (libcudnn.so.8) on LD_LIBRARY_PATH;');
    lines.push('  set TF_FORCE_GPU_ALLOW_GROWTH=true so TensorFlow does not take all GPU memory at start.');
    lines.push(`  found: driver ${gpu.ok ? 'yes' : `no (${gpu.why})`}; libcudart.so.11.0 ${findLib('libcudart.so.11.0') ?? 'not found'}; libcudnn.so.8 ${findLib('libcudnn.so.8') ?? 'not found'}; TF_FORCE_GPU_ALLOW_GROWTH=${process.env.TF_FORCE_GPU_ALLOW_GROWTH ?? '(unset)'}`);
    process.stdout.write(lines.join('\n') + '\n');
  },
};
