// Progress on stderr: one line redrawn in place on a terminal, a plain line now and then in logs, or nothing; always redacted.
import { redact } from '../redact.js';
import { ProgressPolicy, type ProgressMode, type ProgressOutput, type ProgressSnapshot } from './progress.js';

export interface StatusLine {
  mode: ProgressMode;
  /** True on a terminal: the live status is shown, so fewer lines need to be kept. */
  isLive: boolean;
  /** Replace the live status with free text (terminal only; dropped elsewhere). */
  update(text: string): void;
  /** Counted progress of a long phase: repainted on a terminal, a line every few seconds in plain mode. */
  progress(snapshot: ProgressSnapshot): void;
  /** A progress event worth its own line in a log (pip saved a file): live status on a terminal, dropped with none. */
  step(text: string): void;
  /** Chatter (which pip is used): a kept line, unless quiet. */
  info(text: string): void;
  /** A line that stays whatever the mode (warnings, failures), above the live status on a terminal. */
  log(text: string): void;
  /** The work is over: the last phase's end line (plain), the live status removed (terminal), timers stopped. */
  clear(): void;
}

export interface StatusLineOptions {
  /** Default: tty when the stream is a terminal, else plain. */
  mode?: ProgressMode;
  /** Silence info lines as well (progress is then `none`). */
  isQuiet?: boolean;
  /** Plain mode: seconds between two lines of one phase (default 5). */
  intervalMs?: number;
  /** The clock (tests pass their own). */
  now?: () => number;
  /** Whether a timer repaints or prints a due line while no report comes (default true; tests drive `now` instead). */
  hasTimer?: boolean;
}

const CLEAR = '\r\x1b[2K';
export const DEFAULT_INTERVAL_MS = 5_000;

/** The status line of one command on `stream`: progress as the mode asks, kept lines always, every line redacted. */
export function createStatusLine(stream: NodeJS.WriteStream, options: StatusLineOptions = {}): StatusLine {
  const mode: ProgressMode = options.isQuiet ? 'none' : (options.mode ?? (stream.isTTY ? 'tty' : 'plain'));
  const now = options.now ?? (() => performance.now());
  const isQuiet = options.isQuiet === true;
  const interval = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const policy = mode === 'none' ? undefined : new ProgressPolicy({ mode, plainIntervalMs: interval });
  let current = '';
  let lastDraw = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  const fit = (text: string) => {
    const width = Math.max(20, (stream.columns || 80) - 1);
    return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  };
  const draw = () => {
    if (current !== '') stream.write(CLEAR + fit(current));
  };
  const repaint = (text: string) => {
    current = redact(text);
    lastDraw = now();
    draw();
  };
  const keep = (text: string) => {
    if (mode === 'tty') {
      stream.write(CLEAR + redact(text) + '\n');
      draw();
    } else stream.write(redact(text) + '\n');
  };
  const show = (output: ProgressOutput | undefined) => {
    if (output === undefined) return;
    if (output.kind === 'repaint') repaint(output.text);
    else for (const line of output.lines) keep(`dib-pypi: ${line}`);
  };
  const startTimer = () => {
    if (timer !== undefined || policy === undefined || options.hasTimer === false) return;
    // Logs must hear from a phase that reports nothing for a while (one huge file); a terminal's ETA keeps moving.
    timer = setInterval(() => show(policy.tick(now())), Math.min(interval, 1000));
    timer.unref();
  };
  return {
    mode,
    isLive: mode === 'tty',
    update(text) {
      if (mode !== 'tty') return;
      if (now() - lastDraw < 100) {
        current = redact(text); // drawn with the next repaint or kept line
        return; // at most ten repaints a second
      }
      repaint(text);
    },
    progress(snapshot) {
      if (policy === undefined) return;
      startTimer();
      show(policy.report(now(), snapshot));
    },
    step(text) {
      if (mode === 'tty') this.update(text);
      else if (mode === 'plain') keep(`dib-pypi: ${text}`);
    },
    info(text) {
      if (!isQuiet) keep(text);
    },
    log(text) {
      keep(text);
    },
    clear() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      const last = policy?.end(now());
      if (last !== undefined) keep(`dib-pypi: ${last}`);
      if (mode === 'tty' && current !== '') stream.write(CLEAR);
      current = '';
    },
  };
}
