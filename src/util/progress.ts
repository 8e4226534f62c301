/**
 * Progress on stderr with rate and ETA. Redraws in place on a TTY; otherwise prints a line at
 * most every `intervalMs` so logs stay readable. Results never go here (stdout/files only).
 * Progress lines are info: `--log-level warn|error` and LOGOLAB_QUIET=1 silence them.
 *
 * The rate (and the ETA from it) counts from the first tick on: the time before it is start-up
 * (models loading, workers booting, the first batch's compile), which would make the first ETAs
 * several times too long. Until a second tick the average since the start is shown, without an ETA.
 */
import { logEnabled } from './log.js';

export interface ProgressOptions {
  label: string;
  total?: number;
  unit?: string;
  intervalMs?: number;
  stream?: NodeJS.WriteStream;
  /** silence entirely (tests) */
  quiet?: boolean;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  /** when the first tick came and the count after it: the rate's origin */
  private first: { t: number; done: number } | null = null;
  private extra = '';
  /** what the last printed line showed (count, info), so finish() does not repeat it in logs */
  private drawn: [number, string] | null = null;
  private readonly o: Required<Omit<ProgressOptions, 'total'>> & { total?: number };

  constructor(opts: ProgressOptions) {
    // an option given as undefined (callers pass `quiet: opts.quiet` through) keeps its default
    this.o = {
      label: opts.label,
      total: opts.total,
      unit: opts.unit ?? 'it',
      intervalMs: opts.intervalMs ?? (process.stderr.isTTY ? 100 : 2000),
      stream: opts.stream ?? process.stderr,
      quiet: opts.quiet ?? !logEnabled('info'),
    };
  }

  get count(): number {
    return this.done;
  }

  /** Advance by n; `info` is shown after the counters (e.g. "loss 0.31 lr 1e-4"). */
  tick(n = 1, info?: string): void {
    this.done += n;
    if (info !== undefined) this.extra = info;
    const now = Date.now();
    this.first ??= { t: now, done: this.done };
    if (now - this.lastDraw >= this.o.intervalMs || (this.o.total !== undefined && this.done >= this.o.total)) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  set info(s: string) {
    this.extra = s;
  }

  line(): string {
    const now = Date.now();
    const el = (now - this.start) / 1000;
    const since = this.first ? (now - this.first.t) / 1000 : 0;
    const steady = this.first && since > 0 && this.done > this.first.done ? (this.done - this.first.done) / since : null;
    // before a second tick the average since the start is shown, but gives no ETA; no time yet: no rate (not 0/s)
    const rate = steady ?? (el > 0 ? this.done / el : null);
    const t = this.o.total;
    const pct = t ? ` ${((100 * this.done) / t).toFixed(0).padStart(3)}%` : '';
    // past the total (a caller's count was off): no negative ETA
    const eta = t && steady && this.done < t ? ` ETA ${formatDuration((t - this.done) / steady)}` : '';
    const rateStr = rate === null ? '–' : rate >= 10 ? rate.toFixed(0) : rate.toFixed(2);
    return `${this.o.label}${pct} ${this.done}${t ? `/${t}` : ''} ${this.o.unit} | ${rateStr} ${this.o.unit}/s | ${formatDuration(el)}${eta}${this.extra ? ` | ${this.extra}` : ''}`;
  }

  private draw(final: boolean): void {
    if (this.o.quiet) return;
    const tty = this.o.stream.isTTY;
    if (final && !tty && this.drawn && this.drawn[0] === this.done && this.drawn[1] === this.extra) return;
    this.drawn = [this.done, this.extra];
    this.o.stream.write(tty ? `\r\x1b[2K${this.line()}${final ? '\n' : ''}` : `${this.line()}\n`);
  }

  /** Final line (always printed unless quiet). */
  finish(info?: string): void {
    if (info !== undefined) this.extra = info;
    this.draw(true);
  }
}
