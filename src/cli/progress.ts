// The pure core of progress display: counts, rate and ETA as text, and when a terminal repaints or a log gets a line (no clock, no stream).

/** Where progress goes: redrawn in place (terminal), a line now and then (CI logs), or nowhere. */
export type ProgressMode = 'tty' | 'plain' | 'none';

/** One report of a long phase, as the mirror layer counts it. */
export interface ProgressSnapshot {
  /** What is being done, e.g. `verify: hashing`; a new text starts a new phase. */
  phase: string;
  done: number;
  /** 0 or absent: not known (yet). */
  total?: number;
  /** What `done` counts: files, projects, pages. */
  unit?: string;
  /** Bytes done so far, when the phase reads or writes bytes (gives MB/s). */
  bytes?: number;
  /** Bytes the phase will have done at the end (the ETA then follows the bytes). */
  totalBytes?: number;
  /** More counts shown after the main one (e.g. sync's files beside its projects). */
  detail?: string;
}

/** How fast the work goes, measured over a sliding window; undefined until there is enough to tell. */
export interface Rate {
  itemsPerSecond: number;
  bytesPerSecond?: number;
}

interface Sample {
  at: number;
  done: number;
  bytes: number;
}

/** Rates over the last WINDOW_MS (smoothed: a stall or a burst moves them gradually), shown once SETTLE_MS of samples exist. */
export const WINDOW_MS = 10_000;
export const SETTLE_MS = 2_000;
const SAMPLE_EVERY_MS = 200;

/** Samples of (time, done, bytes) in a window; O(1) per report, a few dozen samples at most. */
export class RateWindow {
  private samples: Sample[] = [];
  private latest?: Sample;

  add(at: number, done: number, bytes: number): void {
    this.latest = { at, done, bytes };
    const last = this.samples.at(-1);
    if (last === undefined || at - last.at >= SAMPLE_EVERY_MS) this.samples.push(this.latest);
    // Keep one sample older than the window, so the window spans all of WINDOW_MS.
    while (this.samples.length > 1 && at - (this.samples[1] as Sample).at >= WINDOW_MS) this.samples.shift();
  }

  /** The rate between the oldest sample and the latest counts, or undefined when they span less than SETTLE_MS. */
  rate(hasBytes: boolean): Rate | undefined {
    const first = this.samples[0];
    const last = this.latest;
    if (first === undefined || last === undefined || last.at - first.at < SETTLE_MS) return undefined;
    const seconds = (last.at - first.at) / 1000;
    const rate: Rate = { itemsPerSecond: (last.done - first.done) / seconds };
    if (hasBytes) rate.bytesPerSecond = (last.bytes - first.bytes) / seconds;
    return rate;
  }
}

/** 45s, 3m05s, 1h02m: short enough for a status line. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** 1000-based, as pip and our summaries print sizes. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function formatCount(n: number): string {
  return n >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1);
}

function counts(s: ProgressSnapshot): string {
  const unit = s.unit === undefined ? '' : ` ${s.unit}`;
  const total = s.total ?? 0;
  let text = total > 0 ? `${s.done}/${total}${unit} (${Math.floor((100 * Math.min(s.done, total)) / total)}%)` : `${s.done}${unit}`;
  if (s.bytes !== undefined) text += s.totalBytes ? `, ${formatMegabytes(s.bytes)} of ${formatMegabytes(s.totalBytes)}` : `, ${formatMegabytes(s.bytes)}`;
  if (s.detail !== undefined) text += `, ${s.detail}`;
  return text;
}

function rates(s: ProgressSnapshot, rate: Rate): string {
  const unit = s.unit ?? 'items';
  let text = `${formatCount(rate.itemsPerSecond)} ${unit}/s`;
  if (rate.bytesPerSecond !== undefined) text += `, ${(rate.bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  return text;
}

/** Time left at the current rate: by bytes when their total is known, else by count; undefined when it cannot be told. */
export function estimateRemainingMs(s: ProgressSnapshot, rate: Rate | undefined): number | undefined {
  if (rate === undefined) return undefined;
  if (s.totalBytes && s.bytes !== undefined && rate.bytesPerSecond !== undefined) {
    return rate.bytesPerSecond > 0 ? (1000 * Math.max(0, s.totalBytes - s.bytes)) / rate.bytesPerSecond : undefined;
  }
  if (!s.total) return undefined;
  return rate.itemsPerSecond > 0 ? (1000 * Math.max(0, s.total - s.done)) / rate.itemsPerSecond : undefined;
}

/** The line of a phase in progress: `verify: hashing 1200/40000 files (3%), 12.0 MB of 400.0 MB, 850 files/s, 8.5 MB/s, ETA 45s`. */
export function formatProgress(s: ProgressSnapshot, rate: Rate | undefined): string {
  if (!s.total && s.done === 0 && s.bytes === undefined && s.detail === undefined) return `${s.phase}...`;
  const parts = [`${s.phase} ${counts(s)}`];
  if (rate !== undefined) parts.push(rates(s, rate));
  const isComplete = s.total ? s.done >= s.total : false;
  if ((s.total || s.totalBytes) && !isComplete) {
    const left = estimateRemainingMs(s, rate);
    parts.push(left === undefined ? 'ETA --' : `ETA ${formatDuration(left)}`);
  }
  return parts.join(', ');
}

/** The line at the end of a phase: its counts, how long it took and its average rate. */
export function formatPhaseEnd(s: ProgressSnapshot, elapsedMs: number): string {
  const took = `done in ${(elapsedMs / 1000).toFixed(1)} s`;
  if (!s.total && s.done === 0 && s.bytes === undefined && s.detail === undefined) return `${s.phase} ${took}`;
  const average =
    elapsedMs >= 1000
      ? `, ${rates(s, { itemsPerSecond: (1000 * s.done) / elapsedMs, ...(s.bytes === undefined ? {} : { bytesPerSecond: (1000 * s.bytes) / elapsedMs }) })}`
      : '';
  return `${s.phase} ${counts(s)}, ${took}${average}`;
}

/** What the display should do now. */
export type ProgressOutput = { kind: 'repaint'; text: string } | { kind: 'lines'; lines: string[] };

export interface ProgressPolicyOptions {
  mode: 'tty' | 'plain';
  /** Plain mode: at most one line per this many ms within a phase (besides its start and end lines). */
  plainIntervalMs: number;
  /**
   * Plain mode: a phase's start line waits this long (default: the interval, at most 1 s), so a phase
   * that is over by then gets its end line only: a quick run keeps a short log.
   */
  startGraceMs?: number;
  /** Terminal: at most one repaint per this many ms (default 100: ten a second). */
  repaintMs?: number;
}

/**
 * When to show what: a terminal repaints at most ten times a second; a log gets a line when a phase
 * has run for a moment (startGraceMs), then at most one every `plainIntervalMs` (with the time taken
 * so far), and one when it ends. Times are passed in.
 */
export class ProgressPolicy {
  private current?: ProgressSnapshot;
  private phaseStart = 0;
  private lastShown = Number.NEGATIVE_INFINITY;
  private isStartPending = false;
  private window = new RateWindow();

  constructor(private readonly options: ProgressPolicyOptions) {}

  /** A new report: what to show for it, if anything. */
  report(now: number, s: ProgressSnapshot): ProgressOutput | undefined {
    const previous = this.current;
    this.current = s;
    if (previous !== undefined && previous.phase === s.phase) return this.tick(now);
    const ended = previous !== undefined && this.options.mode === 'plain' ? [formatPhaseEnd(previous, now - this.phaseStart)] : [];
    this.phaseStart = now;
    this.window = new RateWindow();
    this.window.add(now, s.done, s.bytes ?? 0);
    this.isStartPending = this.options.mode === 'plain';
    if (this.options.mode === 'tty') {
      this.lastShown = now;
      return { kind: 'repaint', text: formatProgress(s, undefined) };
    }
    const started = this.tick(now);
    const lines = [...ended, ...(started?.kind === 'lines' ? started.lines : [])];
    return lines.length === 0 ? undefined : { kind: 'lines', lines };
  }

  /** The clock moved (a timer): a due line or repaint of the current state, even without new counts. */
  tick(now: number): ProgressOutput | undefined {
    if (this.current === undefined) return undefined;
    this.window.add(now, this.current.done, this.current.bytes ?? 0); // also without new counts: a stall slows the rate down
    if (this.isStartPending) {
      if (now - this.phaseStart < (this.options.startGraceMs ?? Math.min(this.options.plainIntervalMs, 1000))) return undefined;
      this.isStartPending = false;
      this.lastShown = now;
      return { kind: 'lines', lines: [formatProgress(this.current, this.window.rate(this.current.bytes !== undefined))] };
    }
    const every = this.options.mode === 'plain' ? this.options.plainIntervalMs : (this.options.repaintMs ?? 100);
    if (now - this.lastShown < every) return undefined;
    this.lastShown = now;
    const text = formatProgress(this.current, this.window.rate(this.current.bytes !== undefined));
    // In a log, the time a phase has taken tells a stall (the same counts again) from a slow report.
    return this.options.mode === 'plain' ? { kind: 'lines', lines: [`${text}, ${formatDuration(now - this.phaseStart)} elapsed`] } : { kind: 'repaint', text };
  }

  /** The work is over: the last phase's end line (plain), nothing more to repaint. */
  end(now: number): string | undefined {
    const last = this.current;
    this.current = undefined;
    if (last === undefined || this.options.mode !== 'plain') return undefined;
    return formatPhaseEnd(last, now - this.phaseStart);
  }
}
