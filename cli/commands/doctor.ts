/**
 * `logolab doctor`: what backends are available here, versions, the WebGPU adapter, and what
 * tfjs-node-gpu needs (CUDA libraries, GPU, the exact fix).
 * `logolab doctor --selftest [--backend X] [--config FILE] [--fixtures DIR]`: parity and training
 * checks on one backend (training/selftest.ts) as a pass/fail table; exit 0 only if all pass. On
 * tensorflow-gpu it checks the fp32 kernels (TF32 off, src/selftest/precision.ts) and says so.
 */
import type { CommandModule } from 'yargs';
import { BACKEND_CHOICES, currentBackend, initBackend, packageVersion, reportBackend } from '../../src/backend/index.js';
import { cudaReadiness, formatCudaReadiness, nvidiaSmi } from '../../src/backend/cuda.js';
import { nativeKernelsInstalled } from '../../src/backend/native.js';
import { describeAdapter, webgpuAdapter, webgpuHardwareStatus, type WebGPUAdapterReport } from '../../src/backend/webgpu.js';
import { initSelftestBackend } from '../../src/selftest/precision.js';
import { formatTable } from '../../src/selftest/report.js';
import { locateFixtures } from '../../src/selftest/fixtures.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { LogolabError, UsageError } from '../../src/errors.js';
import { refuseBackendFlag } from '../options.js';

/** Options only --selftest reads (the report takes none). */
const SELFTEST_ONLY = ['config', 'checks', 'fixtures', 'json'] as const;

function adapterLines(a: WebGPUAdapterReport): string[] {
  return [
    `  adapter: ${a.device || '(no name)'} — ${a.description || 'no description'}`,
    `  vendor ${a.vendor || '(not reported)'}, architecture ${a.architecture || '(not reported)'}, Dawn backend ${a.backendType}, ${a.software ? 'SOFTWARE (CPU rasteriser: correct, slow)' : 'hardware'}, feature level ${a.featureLevel}`,
    `  limits: maxStorageBufferBindingSize ${(a.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB (the largest tensor), maxBufferSize ${(a.maxBufferSize / 2 ** 20).toFixed(0)} MiB`,
  ];
}

async function report(): Promise<void> {
  const lines: string[] = [];
  lines.push(`node ${process.version} (${process.platform}-${process.arch})`);
  for (const p of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'sharp', 'better-sqlite3']) {
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
  // which cpu kernels run natively (OpenBLAS addon), or why none do
  const nk = (await import('../../src/backend/native.js')).nativeKernelsStatus();
  lines.push(nk.active.length
    ? `native cpu kernels: active (${nk.active.join(', ')}; OpenBLAS ×${nk.threads} threads${nk.blas ? `, ${nk.blas}` : ''})`
    : `native cpu kernels: ${nk.available ? 'built, not active (cpu backend not initialised)' : `off — ${nk.why}`}`);
  // a diagnosis reports what auto refuses (LOGOLAB_NATIVE=1 without the addon) instead of stopping there
  let auto: Awaited<ReturnType<typeof initBackend>> | null = null;
  try {
    auto = await initBackend('auto', { quiet: true });
  } catch (e) {
    lines.push(`auto picks: none — ${(e as Error).message}`);
  }
  if (auto) {
    lines.push(`auto picks: ${auto.name} (order: tensorflow-gpu → webgpu on a hardware adapter → tensorflow → cpu+native → wasm → cpu)`);
    for (const s of auto.skipped) lines.push(`  not ${s.name}: ${s.why}`);
    // per workload (src/backend/auto-choice.ts): which CPU backend goes first, from measurements
    lines.push('auto per workload:');
    for (const workload of ['encoder', 'detector', 'train'] as const) {
      const r = await initBackend('auto', { quiet: true, workload });
      lines.push(`  ${workload}: ${r.name}${r.notes.length ? ` — ${r.notes[0]}` : ''}`);
    }
  }
  const a = webgpuAdapter();
  lines.push(`webgpu (tfjs-backend-webgpu on Dawn):${a ? '' : ' no adapter (see backends above)'}`);
  if (a) lines.push(...adapterLines(a));
  // on its own line: on a GPU machine a software adapter above would otherwise hide why the GPU's adapter failed
  lines.push(`  hardware adapter: ${webgpuHardwareStatus()}`);
  lines.push(...formatCudaReadiness(cudaReadiness()));
  process.stdout.write(lines.join('\n') + '\n');
}

async function selftest(argv: Record<string, unknown>): Promise<void> {
  const fixtures = locateFixtures(argv.fixtures as string | undefined);
  const { defaultConfig, loadConfigFile } = await import('../../training/config.js');
  const config = argv.config ? loadConfigFile(argv.config as string) : defaultConfig();
  // before the backend starts: a misspelt group is found without loading (say) libtensorflow first
  const { runSelftest, SELFTEST_GROUPS } = await import('../../training/selftest.js');
  const groups = String(argv.checks ?? SELFTEST_GROUPS.join(',')).split(',').map((g) => g.trim()).filter(Boolean);
  const bad = groups.find((g) => !(SELFTEST_GROUPS as readonly string[]).includes(g));
  if (bad !== undefined || groups.length === 0) throw new LogolabError(`--checks: '${bad ?? ''}' is not one of ${SELFTEST_GROUPS.join(', ')}`);
  // on tensorflow-gpu: TF32 off before libtensorflow loads (the tolerances are fp32's; precision.ts)
  const { backend: b, precision } = await initSelftestBackend(argv.backend as string | undefined);
  reportBackend(b);
  const a = b.name === 'webgpu' ? webgpuAdapter() : null;
  const gpuMiB = b.name === 'tensorflow-gpu' ? (nvidiaSmi().gpus[0]?.memoryMiB ?? null) : null;
  const t0 = performance.now();
  const rows = await runSelftest({
    fixtures,
    config,
    groups,
    measureOn: a?.software ? 'cpu' : undefined,
    limits: { maxBindingBytes: a?.maxStorageBufferBindingSize ?? null, softwareAdapter: a?.software ?? false, deviceBytes: gpuMiB === null ? null : gpuMiB * 2 ** 20 },
    onCheck: (name) => process.stderr.write(`[logolab] selftest: ${name} … (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`),
  });
  const backend = currentBackend()!;
  const header = `logolab selftest on ${backend.name}${a ? ` — ${describeAdapter(a)}` : ''}; fixtures ${fixtures}; ${((performance.now() - t0) / 1000).toFixed(0)} s` +
    (precision ? `\n${precision}` : '');
  process.stdout.write(formatTable(rows, header) + '\n');
  // native_kernels: cpu's OpenBLAS kernels served the checks (the backend name alone does not say; the demo records it)
  if (argv.json) writeJsonAtomic(argv.json as string, { backend: backend.name, native_kernels: backend.name === 'cpu' && nativeKernelsInstalled(), adapter: a, precision, fixtures, checks: rows });
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
}

export const command: CommandModule = {
  command: 'doctor',
  describe: 'report backends, versions, WebGPU adapter and CUDA readiness; --selftest checks a backend end to end',
  builder: (y) =>
    y
      .option('selftest', { type: 'boolean', default: false, describe: 'parity of every encoder family, LoRA gradients, 3 training steps, memory estimate on --backend; exit 0 only if all pass' })
      .option('config', { type: 'string', describe: 'with --selftest: training config whose batch and recomputation the memory estimate uses (default: the built-in defaults)' })
      .option('checks', { type: 'string', describe: 'with --selftest: groups to run (default all): parity,losses,lora,train,memory' })
      .option('fixtures', { type: 'string', describe: 'with --selftest: reference fixtures folder (default: the package\'s test/fixtures)' })
      .option('json', { type: 'string', describe: 'with --selftest: also write the results as JSON to this file' }),
  handler: async (argv) => {
    if (argv.selftest) return selftest(argv as Record<string, unknown>);
    // the report tries every backend and reads none of the selftest's options: given ones would
    // be ignored while the report looked like their answer
    refuseBackendFlag(argv, 'doctor', 'without --selftest tries every backend, whatever --backend says (it picks the one --selftest checks)');
    const given = SELFTEST_ONLY.find((o) => argv[o] !== undefined);
    if (given) throw new UsageError(`--${given}: applies to \`logolab doctor --selftest\` only; the report without --selftest does not read it`);
    await report();
  },
};
