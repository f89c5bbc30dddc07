// The journal's line format: versioned, one record a line, each with its length and checksum so a torn tail is seen. Pure.
import { crc32Hex } from '../fs/crc32.js';
import { StateError } from '../errors.js';

export const JOURNAL_HEADER = 'dib-pypi-journal v1';

/** Paths are physical paths inside the root (`/etc/pip.conf`); times are nanoseconds as decimal strings. */
export type JournalRecord =
  | { op: 'begin'; root: string; dev: string; ino: string }
  /** A `--home` configure wrote for (before any of its files): restore's journal check allows only its files and directories. */
  | { op: 'home'; path: string }
  /** A directory whose entries we are about to change: its times, to put back. */
  | { op: 'dir'; path: string; atimeNs: string; mtimeNs: string }
  /** A directory we created. */
  | { op: 'mkdir'; path: string }
  /** A path that did not exist. */
  | { op: 'absent'; path: string }
  /** A regular file, its bytes kept in the state directory as `backup`. */
  | { op: 'file'; path: string; backup: string; crc32: string; size: number; mode: number; uid: number; gid: number; atimeNs: string; mtimeNs: string }
  /** A symlink (kept as a link, never followed). */
  | { op: 'symlink'; path: string; target: string; uid: number; gid: number; atimeNs: string; mtimeNs: string }
  /** A temp file that may exist after a crash. */
  | { op: 'temp'; path: string }
  /** A mount made on `path` (recorded before mounting): restore unmounts it first. */
  | { op: 'mount'; path: string; kind: string }
  | { op: 'configured' }
  /** Every record was replayed; only the state directory is left to remove. */
  | { op: 'restored' };

// CRC-32 catches a torn or damaged line; nothing here needs a cryptographic hash (the state
// directory is root's own, mode 0700), and node:crypto would cost every run its load time.
function checksum(json: string): string {
  return crc32Hex(json);
}

/** `<length> <checksum> <json>\n` */
export function encodeRecord(record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `${Buffer.byteLength(json)} ${checksum(json)} ${json}\n`;
}

function decodeLine(line: string): JournalRecord | undefined {
  const match = /^(\d+) ([0-9a-f]{8}) (.*)$/s.exec(line);
  if (!match) return undefined;
  const [, length = '', sum = '', json = ''] = match;
  if (Buffer.byteLength(json) !== Number(length) || checksum(json) !== sum) return undefined;
  try {
    return JSON.parse(json) as JournalRecord;
  } catch {
    return undefined;
  }
}

export interface DecodedJournal {
  records: JournalRecord[];
  /** Byte length of the valid prefix; anything after it is a torn last record, to truncate. */
  validBytes: number;
}

/**
 * Decode a journal. A bad or unterminated *last* line is a write cut short by a crash: ignored,
 * since its change was never made. A bad line before a good one means the file was damaged: refuse.
 */
export function decodeJournal(text: string, path: string): DecodedJournal {
  if (text === '') return { records: [], validBytes: 0 };
  const lines = text.split('\n');
  const complete = lines.slice(0, -1); // the part after the last \n is unterminated (or empty)
  if (complete.length === 0) return { records: [], validBytes: 0 }; // torn header
  if (complete[0] !== JOURNAL_HEADER) throw new StateError(`${path}: not a dib-pypi journal (first line ${JSON.stringify(complete[0]?.slice(0, 40))})`);
  const records: JournalRecord[] = [];
  let validBytes = Buffer.byteLength(JOURNAL_HEADER) + 1;
  for (let i = 1; i < complete.length; i++) {
    const line = complete[i] as string;
    const record = decodeLine(line);
    if (record === undefined) {
      if (i === complete.length - 1) break;
      throw new StateError(`${path}: record ${i} is damaged; refusing to guess what to restore`);
    }
    records.push(record);
    validBytes += Buffer.byteLength(line) + 1;
  }
  return { records, validBytes };
}
