// The lock a build installs against (`--lock FILE`): read once on the host, checked, then handed to the target as text.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { DibPypiError, InputError } from '../errors.js';
import { parseLock } from '../pypi/lock-file.js';

/** A lock is a few lines per pin: far below this; a bigger file is a wrong path, not a lock. */
const MAX_LOCK_BYTES = 16 * 1024 * 1024;

export interface Lock {
  /** The path as given. */
  path: string;
  /** Its text, exactly as read: the target gets these bytes, never a re-rendering. */
  text: string;
  /** How many pins it holds. */
  pins: number;
}

function readRegularFile(path: string): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO given by mistake must not hang the open; it is refused just below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new InputError('lock', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new InputError('lock', `${path} is not a regular file`);
    if (stat.size > MAX_LOCK_BYTES) throw new InputError('lock', `${path} is ${stat.size} bytes: too big for a lock (at most ${MAX_LOCK_BYTES})`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read and check a lock in `mirror add`'s format (pypi/lock-file.ts): nothing but pins with their
 * `--hash=sha256:` lines and comments. Anything else a requirements file may hold is refused,
 * because pip would obey it inside the target: `--index-url` or `--find-links` (another source),
 * `-r`/`-c` (another file), `-e` or a URL (no pin, no hash).
 */
export function readLock(path: string): Lock {
  const bytes = readRegularFile(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new InputError('lock', `${path} is not UTF-8 text`, { cause: error });
  }
  let pins: number;
  try {
    pins = parseLock(text).entries.length;
  } catch (error) {
    if (!(error instanceof DibPypiError)) throw error;
    throw new InputError('lock', `${path}: ${error.message} (a lock as dib-pypi mirror add writes it)`, { cause: error });
  }
  if (pins === 0) throw new InputError('lock', `${path} pins nothing`);
  return { path, text, pins };
}
