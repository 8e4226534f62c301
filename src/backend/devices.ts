/**
 * GPU device nodes: the evidence that a GPU is usable by this process. A container given GPU N
 * (a Kubernetes pod with `nvidia.com/gpu: 1`, `docker run --gpus device=N`) gets only /dev/nvidiaN
 * (plus nvidiactl, nvidia-uvm, nvidia-modeset), so any /dev/nvidia<digits> counts, not just
 * /dev/nvidia0. `dev` is injectable so that tests can point it at a fake folder.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What is looked for, for messages that say why no GPU was found. */
export function gpuNodePattern(dev = '/dev'): string {
  return `${join(dev, 'nvidia')}<N>, ${join(dev, 'dri/renderD')}*`;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The first NVIDIA GPU node (/dev/nvidia<N>, lowest N), or null. nvidiactl / nvidia-uvm are no GPU. */
export function nvidiaGpuNode(dev = '/dev'): string | null {
  const n = list(dev).filter((f) => /^nvidia\d+$/.test(f)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  return n.length ? join(dev, n[0]!) : null;
}

/** An NVIDIA GPU node, else a DRM render node (/dev/dri/renderD*: AMD, Intel, NVIDIA), or null. */
export function gpuDeviceNode(dev = '/dev'): string | null {
  const nv = nvidiaGpuNode(dev);
  if (nv) return nv;
  const render = list(join(dev, 'dri')).filter((f) => f.startsWith('renderD')).sort();
  return render.length ? join(dev, 'dri', render[0]!) : null;
}
