/** Results of `logolab doctor --selftest`: one row per check, printed as a pass/fail table. */
import { firstLine } from '../errors.js';

export interface CheckResult {
  /** what was checked, e.g. "clip_tiny forward vs transformers" */
  name: string;
  ok: boolean;
  /** the measured figure against its bound, e.g. "max abs err 8.3e-7 ≤ 1e-4" */
  detail: string;
  seconds: number;
}

/** Runs one check; an exception is a failed row (with its message), never a crash of the table. */
export async function runCheck(name: string, fn: () => Promise<{ ok: boolean; detail: string }> | { ok: boolean; detail: string }): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    const r = await fn();
    return { name, ...r, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    return { name, ok: false, detail: `error: ${firstLine(e)}`, seconds: (performance.now() - t0) / 1000 };
  }
}

/** `err ≤ tol` as a detail string, with the verdict. */
export function within(label: string, err: number, tol: number): { ok: boolean; detail: string } {
  return { ok: err <= tol, detail: `${label} ${err.toExponential(2)} ${err <= tol ? '≤' : '>'} ${tol.toExponential(0)}` };
}

/** Merges several bounds into one row (ok only if all are). */
export function allWithin(parts: { ok: boolean; detail: string }[]): { ok: boolean; detail: string } {
  return { ok: parts.every((p) => p.ok), detail: parts.map((p) => p.detail).join('; ') };
}

export function formatTable(rows: CheckResult[], header: string): string {
  const w = Math.max(5, ...rows.map((r) => r.name.length));
  const lines = [header, `| ${'check'.padEnd(w)} | result | seconds | detail |`, `| ${'-'.repeat(w)} | ------ | ------- | ------ |`];
  for (const r of rows) lines.push(`| ${r.name.padEnd(w)} | ${r.ok ? 'pass  ' : 'FAIL  '} | ${r.seconds.toFixed(1).padStart(7)} | ${r.detail} |`);
  const failed = rows.filter((r) => !r.ok).length;
  lines.push(failed ? `selftest: ${failed} of ${rows.length} checks FAILED` : `selftest: all ${rows.length} checks passed`);
  return lines.join('\n');
}
