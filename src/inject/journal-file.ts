// The journal on disk: one per root, in the host's state directory, appended and fsynced before every change.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, ftruncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfinementError, StateError } from '../errors.js';
import { fsyncPath, writeFileAtomic } from '../fs/atomic-write.js';
import { crc32Hex } from '../fs/crc32.js';
import { decodeJournal, encodeRecord, JOURNAL_HEADER, type JournalRecord } from './journal-format.js';
import { firstJournalProblem } from './journal-rules.js';

/**
 * Where the journal and backups of `root` (a real host path) live: a readable name plus the
 * CRC-32 of the exact path (`tmp_dib_build.x1_mnt-1a2b3c4d`); the journal's `begin` record
 * (device and inode) catches the rare collision.
 */
export function stateDirOf(stateRoot: string, realRoot: string): string {
  const readable =
    realRoot
      .replace(/^\/+/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(-80) || 'root';
  return join(stateRoot, 'roots', `${readable}-${crc32Hex(realRoot)}`);
}

export class JournalFile {
  readonly dir: string;
  readonly path: string;
  records: JournalRecord[] = [];
  private fd: number | undefined;
  private backups = 0;

  constructor(dir: string) {
    this.dir = dir;
    this.path = join(dir, 'journal');
  }

  get exists(): boolean {
    return existsSync(this.path);
  }

  /** Read the records; a torn last record is cut off so later appends follow a good line. */
  load(): this {
    if (!this.exists) return this;
    const text = readFileSync(this.path, 'utf8');
    const { records, validBytes } = decodeJournal(text, this.path);
    this.records = records;
    this.backups = records.filter((r) => r.op === 'file').length;
    if (validBytes !== Buffer.byteLength(text)) {
      const fd = openSync(this.path, 'r+');
      try {
        ftruncateSync(fd, validBytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    return this;
  }

  /** Append records and fsync: once this returns, a crash cannot lose them. */
  append(...records: JournalRecord[]): void {
    // Never write a journal restore would refuse (journal-rules.ts): such a record is a bug or a
    // redirected path, and a refused journal could never be replayed.
    const found = firstJournalProblem([...this.records, ...records]);
    if (found !== undefined) {
      throw new ConfinementError(`refusing to journal ${found.what}: it ${found.problem}, so restore would refuse the journal ${this.path}`, this.path);
    }
    if (this.fd === undefined) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const isNew = !existsSync(this.path) || statSync(this.path).size === 0;
      this.fd = openSync(this.path, 'a', 0o600);
      if (isNew) {
        writeSync(this.fd, JOURNAL_HEADER + '\n');
        fsyncPath(this.dir);
      }
    }
    writeSync(this.fd, records.map(encodeRecord).join(''));
    fsyncSync(this.fd);
    this.records.push(...records);
  }

  /** Keep a copy of a file's bytes in the state directory; returns its name for the record. */
  saveBackup(data: Buffer): { backup: string; crc32: string } {
    const backup = `backup-${++this.backups}`;
    const target = join(this.dir, backup);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    rmSync(target + '.tmp', { force: true });
    writeFileAtomic(target, target + '.tmp', data, { mode: 0o600, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    return { backup, crc32: crc32Hex(data) };
  }

  /** A backup's bytes, checked against the size and CRC-32 recorded with it. */
  readBackup(backup: string, size: number, crc32: string): Buffer {
    const data = readFileSync(join(this.dir, backup));
    const actual = crc32Hex(data);
    if (data.length !== size || actual !== crc32) {
      throw new StateError(`backup ${join(this.dir, backup)} is damaged (${data.length} bytes, crc32 ${actual}; recorded ${size} bytes, crc32 ${crc32})`);
    }
    return data;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Remove backups, then the journal itself, then the directory: the journal goes last. */
  discard(onStep?: (name: string) => void): void {
    this.close();
    if (!existsSync(this.dir)) return;
    for (const record of this.records) {
      if (record.op === 'file') rmSync(join(this.dir, record.backup), { force: true });
    }
    onStep?.('removed backups');
    if (existsSync(this.path)) unlinkSync(this.path);
    fsyncPath(this.dir);
    onStep?.('removed journal');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
