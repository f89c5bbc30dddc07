// --progress and --quiet of the long mirror commands (with DIB_PYPI_PROGRESS and DIB_PYPI_PROGRESS_INTERVAL below them) -> a status line.
import { UsageError } from '../errors.js';
import type { ProgressMode } from './progress.js';
import { createStatusLine, type StatusLine } from './status-line.js';

export interface ProgressFlags {
  progress?: string;
  quiet?: boolean;
}

const MODES = ['auto', 'tty', 'plain', 'none'] as const;
type ModeChoice = (typeof MODES)[number];

/** `auto|tty|plain|none`, from the flag or the variable named by `source`. */
export function parseProgressMode(raw: string, source: string): ModeChoice {
  if ((MODES as readonly string[]).includes(raw)) return raw as ModeChoice;
  throw new UsageError(`expected auto, tty, plain or none, got ${JSON.stringify(raw)}`, source);
}

/** Seconds between two plain lines of one phase (a positive number, fractions allowed: tests use 0.2). */
export function parseProgressInterval(raw: string, source: string): number {
  const seconds = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`expected a number of seconds above 0, got ${JSON.stringify(raw)}`, source);
  return seconds * 1000;
}

/** The mode in effect: --quiet beats all; the flag beats DIB_PYPI_PROGRESS; auto is tty on a terminal, else plain. */
export function resolveProgressMode(flags: ProgressFlags, env: Readonly<Record<string, string | undefined>>, isTTY: boolean): ProgressMode {
  if (flags.quiet === true) return 'none';
  const choice =
    flags.progress !== undefined
      ? parseProgressMode(flags.progress, '--progress')
      : env.DIB_PYPI_PROGRESS
        ? parseProgressMode(env.DIB_PYPI_PROGRESS, 'DIB_PYPI_PROGRESS')
        : 'auto';
  if (choice === 'auto') return isTTY ? 'tty' : 'plain';
  return choice;
}

/** The status line a long command writes its progress to (stderr), as the flags and the environment ask. */
export function statusLineFromFlags(flags: ProgressFlags, env: Readonly<Record<string, string | undefined>>, stream: NodeJS.WriteStream): StatusLine {
  const mode = resolveProgressMode(flags, env, stream.isTTY === true);
  const interval = env.DIB_PYPI_PROGRESS_INTERVAL;
  return createStatusLine(stream, {
    mode,
    isQuiet: flags.quiet === true,
    ...(interval === undefined || interval === '' ? {} : { intervalMs: parseProgressInterval(interval, 'DIB_PYPI_PROGRESS_INTERVAL') }),
  });
}
