// What a journal may ask of restore: only what configure could have written. Checked as a whole before anything is replayed. Pure.
//
// Defence in depth behind the state directory's trust check (src/fs/trust-dir.ts): even a journal
// in a trusted place is obeyed only when every record is one configure writes. Paths in records
// are physical paths inside the root, resolved through the root's own symlinks (`/root/.pip ->
// /etc` makes `/etc/pip.conf`), so the directory part of a path can be anything; what resolution
// never changes is the last component. Hence the rules, by record:
// - file, symlink, absent: named `pip.conf`, `.pydistutils.cfg` or `pypi-requirements.lock` (a lock); a file's mode is 0..0777 (no
//   setuid, setgid or sticky bit: configure refuses to replace such a file, so never records one),
//   its backup is `backup-<n>` in the state directory, never a path;
// - temp: a temp name of one of those (`.pip.conf.tmp-<pid>-<n>`, src/fs/atomic-write.ts);
// - mkdir: named as a directory configure creates (a component of a target's directory for a
//   journaled home, or of a mount point), or holding a later record (a symlink in the root can
//   send a home anywhere: `/root -> /srv/x` creates `/srv`, `/srv/x`), or the last record (a crash
//   right after it was journaled); restore removes it only when it is empty;
// - mount: a mount point's name with its kind (`pypi` bind-ro, `proc` proc, `dev`/`pts` bind);
// - dir (times only), begin, home: well-formed.
import { posix } from 'node:path';
import { StateError } from '../errors.js';
import type { JournalRecord } from './journal-format.js';
import { targetPathsFor } from './target-paths.js';

/** The directories inside a root that dib-pypi mounts on (and may create): each with its mount kind. */
export const MOUNT_POINTS: Readonly<Record<string, 'proc' | 'bind' | 'bind-ro'>> = {
  '/proc': 'proc',
  '/dev': 'bind',
  '/dev/pts': 'bind',
  '/tmp/pypi': 'bind-ro',
};

const UINT32_MAX = 0xffffffff;
const TARGET_NAMES = new Set(targetPathsFor('/').map((t) => posix.basename(t.path)));
const TEMP_NAME = /^\.(.+)\.tmp-\d+-\d+$/;
const DECIMAL = /^-?\d{1,30}$/;

type Fields = Record<string, unknown>;

function isPath(value: unknown): value is string {
  return (
    typeof value === 'string' && value.startsWith('/') && !value.includes('\0') && posix.normalize(value) === value && (value === '/' || !value.endsWith('/'))
  );
}

function isId(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < UINT32_MAX;
}

function isTimes(r: Fields): boolean {
  return typeof r.atimeNs === 'string' && DECIMAL.test(r.atimeNs) && typeof r.mtimeNs === 'string' && DECIMAL.test(r.mtimeNs);
}

/** Names of the directories configure may create, for the journaled homes. */
function creatableNames(homes: string[]): Set<string> {
  const names = new Set<string>();
  const system = targetPathsFor('/').filter((t) => t.ownedBy === 'system');
  const dirs = [...Object.keys(MOUNT_POINTS), ...[...system, ...homes.flatMap((home) => targetPathsFor(home))].map((t) => posix.dirname(t.path))];
  for (const dir of dirs) for (const part of dir.split('/')) if (part !== '') names.add(part);
  return names;
}

/** Why one record is not one configure writes, or undefined when it is. */
function recordProblem(r: Fields, creatable: Set<string>, context: { isParentOfLater: boolean; isLast: boolean }): string | undefined {
  const path = r.path;
  const name = typeof path === 'string' ? posix.basename(path) : '';
  switch (r.op) {
    case 'begin':
      return isPath(r.root) && typeof r.dev === 'string' && DECIMAL.test(r.dev) && typeof r.ino === 'string' && DECIMAL.test(r.ino)
        ? undefined
        : 'is malformed';
    case 'home':
      return isPath(path) ? undefined : 'is malformed';
    case 'configured':
    case 'restored':
      return undefined;
    case 'dir':
      return isPath(path) && isTimes(r) ? undefined : 'is malformed';
    case 'mkdir':
      if (!isPath(path) || path === '/') return 'is malformed';
      return creatable.has(name) || context.isParentOfLater || context.isLast ? undefined : 'names a directory configure never creates';
    case 'absent':
    case 'file':
    case 'symlink':
      if (!isPath(path)) return 'is malformed';
      if (!TARGET_NAMES.has(name)) return `names a file configure never writes (only ${[...TARGET_NAMES].join(', ')})`;
      if (r.op === 'file') {
        if (typeof r.mode !== 'number' || !Number.isInteger(r.mode) || r.mode < 0) return 'is malformed';
        if ((r.mode & ~0o777) !== 0) return `has mode 0${r.mode.toString(8)}: a setuid, setgid or sticky bit configure never records`;
        const wellFormed =
          typeof r.backup === 'string' &&
          /^backup-\d{1,9}$/.test(r.backup) &&
          typeof r.crc32 === 'string' &&
          /^[0-9a-f]{8}$/.test(r.crc32) &&
          Number.isSafeInteger(r.size) &&
          (r.size as number) >= 0 &&
          isId(r.uid) &&
          isId(r.gid) &&
          isTimes(r);
        return wellFormed ? undefined : 'is malformed';
      }
      if (r.op === 'symlink') {
        const wellFormed = typeof r.target === 'string' && r.target !== '' && !r.target.includes('\0') && isId(r.uid) && isId(r.gid) && isTimes(r);
        return wellFormed ? undefined : 'is malformed';
      }
      return undefined;
    case 'temp': {
      if (!isPath(path)) return 'is malformed';
      const of = TEMP_NAME.exec(name)?.[1];
      return of !== undefined && TARGET_NAMES.has(of) ? undefined : 'names a temp file configure never writes';
    }
    case 'mount': {
      if (!isPath(path)) return 'is malformed';
      const point = Object.entries(MOUNT_POINTS).find(([p]) => posix.basename(p) === name);
      if (point === undefined) return 'names a mount point dib-pypi never uses';
      return r.kind === point[1] ? undefined : `has mount kind ${JSON.stringify(r.kind)}, not ${point[1]}`;
    }
    default:
      return 'has an unknown operation';
  }
}

/** The first record of a decoded journal (JSON, so of unknown shape) that configure never writes, with why; undefined when all are. */
export function firstJournalProblem(records: readonly unknown[]): { index: number; what: string; problem: string } | undefined {
  const objects = records.map((r) => (typeof r === 'object' && r !== null && !Array.isArray(r) ? (r as Fields) : { op: undefined }));
  const homes = objects.filter((r) => r.op === 'home' && isPath(r.path)).map((r) => r.path as string);
  const creatable = creatableNames(homes);
  for (let i = 0; i < objects.length; i++) {
    const r = objects[i] as Fields;
    const prefix = typeof r.path === 'string' ? `${r.path}/` : undefined;
    const context = {
      isParentOfLater: prefix !== undefined && objects.slice(i + 1).some((later) => typeof later.path === 'string' && later.path.startsWith(prefix)),
      isLast: i === objects.length - 1,
    };
    const problem = i === 0 && r.op !== 'begin' ? 'is not the begin record' : recordProblem(r, creatable, context);
    if (problem === undefined) continue;
    const what = typeof r.op === 'string' ? `${r.op}${typeof r.path === 'string' ? ` ${JSON.stringify(r.path)}` : ''}` : 'record';
    return { index: i, what, problem };
  }
  return undefined;
}

/**
 * Check every record of a decoded journal (JSON, so of unknown shape) before any is replayed;
 * throws one StateError naming the first bad record, so a journal is obeyed whole or not at all.
 */
export function checkJournalRecords(records: readonly unknown[], journalPath: string): asserts records is JournalRecord[] {
  const found = firstJournalProblem(records);
  if (found === undefined) return;
  throw new StateError(`refusing the journal ${journalPath}: record ${found.index + 1} (${found.what}) ${found.problem}; nothing was changed`);
}
