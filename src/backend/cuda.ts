/**
 * Is this machine ready for @tensorflow/tfjs-node-gpu? 4.22 loads libtensorflow 2.9.1, built for
 * CUDA 11.2 + cuDNN 8.1, which dlopens the CUDA 11 libraries below by soname. When one is missing
 * TensorFlow logs a warning and runs on the CPU — silently for the caller — so we look for each
 * soname where the dynamic loader will: the ldconfig cache and LD_LIBRARY_PATH. pip's
 * `nvidia-*-cu11` wheels put them under site-packages/nvidia/<part>/lib, which the loader does not
 * search: found there, they need LD_LIBRARY_PATH, and we print it.
 *
 * Kernels: libtensorflow 2.9 ships native code up to sm_75 plus compute_80 PTX. Ampere (8.x) runs
 * natively or from that PTX; Ada (8.9) and Hopper (9.0) run only by JIT-compiling the PTX at first
 * use (minutes, cached in ~/.nv/ComputeCache up to CUDA_CACHE_MAXSIZE, default 256 MiB — too small).
 * CUDA 11.8 is the first CUDA 11 with sm_90 and keeps the sonames; cuDNN 8.9 supports Ada/Hopper.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The CUDA libraries libtensorflow 2.9 needs before it registers a GPU device, and their pip wheel. */
export const CUDA_LIBS: { soname: string; wheel: string; dir: string }[] = [
  { soname: 'libcudart.so.11.0', wheel: 'nvidia-cuda-runtime-cu11', dir: 'cuda_runtime' },
  { soname: 'libcublas.so.11', wheel: 'nvidia-cublas-cu11', dir: 'cublas' },
  { soname: 'libcublasLt.so.11', wheel: 'nvidia-cublas-cu11', dir: 'cublas' },
  { soname: 'libcufft.so.10', wheel: 'nvidia-cufft-cu11', dir: 'cufft' },
  { soname: 'libcurand.so.10', wheel: 'nvidia-curand-cu11', dir: 'curand' },
  { soname: 'libcusolver.so.11', wheel: 'nvidia-cusolver-cu11', dir: 'cusolver' },
  { soname: 'libcusparse.so.11', wheel: 'nvidia-cusparse-cu11', dir: 'cusparse' },
  { soname: 'libcudnn.so.8', wheel: 'nvidia-cudnn-cu11', dir: 'cudnn' },
];

/** CUDA_CACHE_MAXSIZE for Ada/Hopper (4 GiB): the PTX-JIT kernels stay cached; the examples set it too. */
export const CUDA_CACHE_MAXSIZE_RECOMMENDED = '4294967296';

export interface LibStatus {
  soname: string;
  /** where the loader finds it (ldconfig cache or an LD_LIBRARY_PATH folder) */
  loadable: string | null;
  /** a folder that has it but the loader does not search (pip wheel, /usr/local/cuda-11.x) */
  elsewhere: string | null;
}

export interface GpuInfo {
  name: string;
  computeCap: string | null;
  driver: string | null;
  memoryMiB: number | null;
}

export interface CudaReadiness {
  libs: LibStatus[];
  gpus: GpuInfo[];
  /** why nvidia-smi gave nothing */
  gpuWhy: string | null;
  allowGrowth: string | undefined;
  cacheMaxSize: string | undefined;
}

export interface SearchPaths {
  /** `ldconfig -p` output */
  ldconfig: string;
  ldLibraryPath: string;
  /** folders searched besides the loader's: pip wheels, CUDA toolkits */
  extraDirs: string[];
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}

function listDirs(parent: string, re: RegExp): string[] {
  try {
    return readdirSync(parent).filter((n) => re.test(n)).sort().map((n) => join(parent, n));
  } catch {
    return [];
  }
}

/** site-packages folders of the usual Pythons (system, user, venv, conda), without running Python. */
function sitePackages(): string[] {
  const roots = ['/usr/lib', '/usr/local/lib', join(homedir(), '.local/lib')];
  for (const v of [process.env.VIRTUAL_ENV, process.env.CONDA_PREFIX]) if (v) roots.push(join(v, 'lib'));
  const out: string[] = [];
  for (const r of roots) for (const py of listDirs(r, /^python3(\.\d+)?$/)) out.push(join(py, 'site-packages'), join(py, 'dist-packages'));
  return out.filter((d) => existsSync(d));
}

export function defaultSearchPaths(): SearchPaths {
  const wheelDirs = sitePackages().flatMap((sp) => CUDA_LIBS.map((l) => join(sp, 'nvidia', l.dir, 'lib')));
  const toolkits = ['/usr/local/cuda', ...listDirs('/usr/local', /^cuda-11\.\d+$/)].flatMap((d) => [join(d, 'lib64'), join(d, 'targets/x86_64-linux/lib')]);
  return {
    ldconfig: run('ldconfig', ['-p']) ?? run('/sbin/ldconfig', ['-p']) ?? '',
    ldLibraryPath: process.env.LD_LIBRARY_PATH ?? '',
    extraDirs: [...new Set([...wheelDirs, ...toolkits])].filter((d) => existsSync(d)),
  };
}

export function findCudaLibs(p: SearchPaths = defaultSearchPaths()): LibStatus[] {
  const cache = new Map<string, string>();
  for (const line of p.ldconfig.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    if (m && !cache.has(m[1]!) && (!m[2]!.includes('x86-64') || process.arch === 'x64')) cache.set(m[1]!, m[3]!);
  }
  const ldDirs = p.ldLibraryPath.split(':').filter(Boolean);
  return CUDA_LIBS.map(({ soname }) => {
    const onPath = ldDirs.find((d) => existsSync(join(d, soname)));
    const loadable = onPath ? join(onPath, soname) : (cache.get(soname) ?? null);
    const other = loadable ? undefined : p.extraDirs.find((d) => existsSync(join(d, soname)));
    return { soname, loadable, elsewhere: other ?? null };
  });
}

/** GPUs as nvidia-smi lists them (name, compute capability, driver, memory). */
export function nvidiaSmi(): { gpus: GpuInfo[]; why: string | null } {
  const full = run('nvidia-smi', ['--query-gpu=name,compute_cap,driver_version,memory.total', '--format=csv,noheader,nounits']);
  const basic = full ?? run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits']);
  if (basic === null) return { gpus: [], why: 'nvidia-smi not found or failed (no NVIDIA driver?)' };
  const gpus = basic.trim().split('\n').filter(Boolean).map((line) => {
    const f = line.split(',').map((s) => s.trim());
    return full !== null
      ? { name: f[0]!, computeCap: f[1] || null, driver: f[2] || null, memoryMiB: Number(f[3]) || null }
      : { name: f[0]!, computeCap: null, driver: f[1] || null, memoryMiB: Number(f[2]) || null };
  });
  return { gpus, why: gpus.length ? null : 'nvidia-smi lists no GPU' };
}

export function cudaReadiness(paths?: SearchPaths): CudaReadiness {
  const smi = nvidiaSmi();
  return {
    libs: findCudaLibs(paths),
    gpus: smi.gpus,
    gpuWhy: smi.why,
    allowGrowth: process.env.TF_FORCE_GPU_ALLOW_GROWTH,
    cacheMaxSize: process.env.CUDA_CACHE_MAXSIZE,
  };
}

/** The missing sonames, for the one-line error of `--backend tensorflow-gpu`. */
export function missingCudaLibs(libs: LibStatus[]): string[] {
  return libs.filter((l) => !l.loadable).map((l) => l.soname);
}

const PIP_CU118 =
  "pip install nvidia-cuda-runtime-cu11==11.8.89 nvidia-cublas-cu11==11.11.3.6 'nvidia-cudnn-cu11>=8.9,<9' " +
  "nvidia-cufft-cu11==10.9.0.58 nvidia-curand-cu11==10.3.0.86 nvidia-cusolver-cu11==11.4.1.48 nvidia-cusparse-cu11==11.7.5.86";

/** Lines of `doctor` output: what was found, and the exact fix for what is missing. */
export function formatCudaReadiness(r: CudaReadiness): string[] {
  const out: string[] = ['tensorflow-gpu readiness (@tensorflow/tfjs-node-gpu 4.22 = libtensorflow 2.9.1, built for CUDA 11.2 + cuDNN 8.1):'];
  if (r.gpus.length) {
    for (const g of r.gpus) {
      out.push(`  GPU: ${g.name}, compute capability ${g.computeCap ?? '? (nvidia-smi too old to say)'}, driver ${g.driver ?? '?'}${g.memoryMiB ? `, ${(g.memoryMiB / 1024).toFixed(0)} GiB` : ''}`);
    }
  } else out.push(`  GPU: none found — ${r.gpuWhy}`);
  for (const l of r.libs) {
    out.push(`  ${l.soname.padEnd(18)} ${l.loadable ? `found: ${l.loadable}` : l.elsewhere ? `NOT on the loader path (found in ${l.elsewhere})` : 'MISSING'}`);
  }
  out.push(`  TF_FORCE_GPU_ALLOW_GROWTH=${r.allowGrowth ?? '(unset: logolab sets true before loading TensorFlow)'}`);
  const fixes: string[] = [];
  const missing = r.libs.filter((l) => !l.loadable);
  const cc = Math.max(0, ...r.gpus.map((g) => Number(g.computeCap ?? 0)));
  if (missing.length) {
    const offPath = [...new Set(missing.filter((l) => l.elsewhere).map((l) => l.elsewhere!))];
    const absent = missing.filter((l) => !l.elsewhere);
    if (absent.length) {
      fixes.push(`install the CUDA 11.8 runtime libraries and cuDNN 8.9 (same sonames as 11.2/8.1; 11.8 is the first CUDA 11 with Hopper sm_90) — missing: ${absent.map((l) => l.soname).join(', ')}:`);
      fixes.push(`    ${PIP_CU118}`);
      fixes.push(`    then: export LD_LIBRARY_PATH=$(python3 -c 'import nvidia,os;p=list(nvidia.__path__)[0];print(":".join(os.path.join(p,d,"lib") for d in sorted(os.listdir(p)) if os.path.isdir(os.path.join(p,d,"lib"))))'):$LD_LIBRARY_PATH`);
      fixes.push("    (or apt, from NVIDIA's CUDA repository: cuda-libraries-11-8 and libcudnn8=8.9.*-1+cuda11.8)");
    }
    if (offPath.length) fixes.push(`put the CUDA 11 libraries on the loader path: export LD_LIBRARY_PATH=${offPath.join(':')}:$LD_LIBRARY_PATH`);
    fixes.push('with CUDA 12 / cuDNN 9 only, TensorFlow 2.9 cannot load them and would run on the CPU: logolab refuses --backend tensorflow-gpu then');
  }
  if (cc >= 8.9) {
    fixes.push(`compute capability ${cc}: libtensorflow 2.9 has no native kernels for it (up to sm_75 + compute_80 PTX): they are JIT-compiled from PTX at first use, for minutes.`);
    fixes.push(`    export CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE_RECOMMENDED} (keep the compiled kernels; the 256 MiB default evicts them), then warm the cache once: logolab doctor --selftest --backend tensorflow-gpu`);
  }
  if (r.gpus.length === 0) fixes.push('no NVIDIA GPU/driver here: tensorflow-gpu cannot run on this machine');
  if (fixes.length) {
    out.push('  fix:');
    for (const f of fixes) out.push(`    ${f}`);
  } else out.push('  ready (check with: logolab doctor --selftest --backend tensorflow-gpu)');
  return out;
}

/**
 * Before loading tfjs-node-gpu: the reason it cannot use a GPU, or null. Sets
 * TF_FORCE_GPU_ALLOW_GROWTH=true unless the user set it (TensorFlow otherwise reserves all GPU
 * memory at start); it must be in the environment before libtensorflow initialises.
 */
export function tensorflowGpuPrecheck(paths?: SearchPaths): string | null {
  if (process.platform === 'linux') {
    const missing = missingCudaLibs(findCudaLibs(paths));
    if (missing.length) return `CUDA 11 libraries not loadable: ${missing.join(', ')} (TensorFlow would run on the CPU; \`logolab doctor\` prints the fix)`;
  }
  if (process.env.TF_FORCE_GPU_ALLOW_GROWTH === undefined) process.env.TF_FORCE_GPU_ALLOW_GROWTH = 'true';
  return null;
}

/** After tfjs-node-gpu is the active backend: null when TensorFlow registered a GPU device. */
export function tensorflowGpuPostcheck(backend: unknown): string | null {
  const b = backend as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean };
  if (b.isUsingGpuDevice === true) return null;
  return b.isGPUPackage === false
    ? "the 'tensorflow' backend that loaded is @tensorflow/tfjs-node (CPU build), not tfjs-node-gpu"
    : 'TensorFlow loaded but registered no GPU device: it would run on the CPU (its log above says which CUDA library or GPU it rejected; `logolab doctor` prints the fix)';
}
