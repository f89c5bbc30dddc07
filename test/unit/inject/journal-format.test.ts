// Journal line format: encode/decode round trip, torn tails ignored at every byte, damage refused.
import { crc32 } from 'node:zlib';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJournal, encodeRecord, JOURNAL_HEADER, type JournalRecord } from '../../../src/inject/journal-format.js';
import { StateError } from '../../../src/errors.js';

const PATH = '/var/lib/dib-pypi/roots/abc/journal';

/** One record of every kind, with values that stress JSON (non-ASCII, newline, quotes, big numbers). */
const EVERY_KIND: { kind: JournalRecord['op']; record: JournalRecord }[] = [
  { kind: 'begin', record: { op: 'begin', root: '/srv/chroot', dev: '2049', ino: '18446744073709551615' } },
  { kind: 'dir', record: { op: 'dir', path: '/etc', atimeNs: '1700000000000000005', mtimeNs: '-1500000000' } },
  { kind: 'mkdir', record: { op: 'mkdir', path: '/root/.config/pip' } },
  { kind: 'absent', record: { op: 'absent', path: '/root/.pydistutils.cfg' } },
  {
    kind: 'file',
    record: {
      op: 'file',
      path: '/root/.pip/pip.conf',
      backup: 'backup-1',
      crc32: '00000000',
      size: 0,
      mode: 0o100600,
      uid: 1000,
      gid: 4294967294,
      atimeNs: '0',
      mtimeNs: '1700000000123456789',
    },
  },
  { kind: 'symlink', record: { op: 'symlink', path: '/etc/pip.conf', target: '../srv/"quoted" pip.conf', uid: 0, gid: 0, atimeNs: '1', mtimeNs: '2' } },
  { kind: 'temp', record: { op: 'temp', path: '/etc/.pip.conf.tmp-123-1' } },
  { kind: 'configured', record: { op: 'configured' } },
  { kind: 'restored', record: { op: 'restored' } },
  // Paths are bytes the user chose: a newline or non-ASCII must not split or shift a record.
  { kind: 'absent', record: { op: 'absent', path: '/home/zoë/ünïcødé\nnew line\u2028sep.conf' } },
];

const journalOf = (records: JournalRecord[]): string => JOURNAL_HEADER + '\n' + records.map(encodeRecord).join('');
const HEADER_BYTES = Buffer.byteLength(JOURNAL_HEADER) + 1;

test('journal header is versioned', () => {
  assert.equal(JOURNAL_HEADER, 'dib-pypi-journal v1');
});

const GOLDEN_LINES: { record: JournalRecord; line: string }[] = [
  { record: { op: 'configured' }, line: '19 5ffdc13b {"op":"configured"}\n' },
  { record: { op: 'restored' }, line: '17 e97b8475 {"op":"restored"}\n' },
  // the length counts bytes, not characters (ü is two bytes)
  { record: { op: 'absent', path: '/root/ü' }, line: '33 df213d26 {"op":"absent","path":"/root/ü"}\n' },
];

for (const { record, line } of GOLDEN_LINES) {
  test(`encodeRecord golden: ${JSON.stringify(record)}`, () => {
    assert.equal(encodeRecord(record), line);
  });
}

for (const { kind, record } of EVERY_KIND) {
  test(`journal round trip: ${kind} ${JSON.stringify(record).slice(0, 60)}`, () => {
    const line = encodeRecord(record);
    assert.ok(line.endsWith('\n'));
    assert.equal(line.indexOf('\n'), line.length - 1, 'one record is one line');
    const text = journalOf([record]);
    assert.deepEqual(decodeJournal(text, PATH), { records: [record], validBytes: Buffer.byteLength(text) });
  });
}

test('journal round trip: every kind in one journal, in order', () => {
  const records = EVERY_KIND.map((r) => r.record);
  const text = journalOf(records);
  assert.deepEqual(decodeJournal(text, PATH), { records, validBytes: Buffer.byteLength(text) });
});

test('journal: empty text has no records', () => {
  assert.deepEqual(decodeJournal('', PATH), { records: [], validBytes: 0 });
});

test('journal: header alone has no records and is all valid', () => {
  assert.deepEqual(decodeJournal(JOURNAL_HEADER + '\n', PATH), { records: [], validBytes: HEADER_BYTES });
});

// A crash while writing the header: every strict prefix of "header\n" gives no records and 0 valid bytes.
for (let cut = 1; cut < HEADER_BYTES; cut++) {
  test(`journal: header torn after ${cut} bytes gives no records`, () => {
    assert.deepEqual(decodeJournal((JOURNAL_HEADER + '\n').slice(0, cut), PATH), { records: [], validBytes: 0 });
  });
}

// Cut the last record at every byte position, as a crash can; decode the bytes the way JournalFile reads them (utf8).
const TORN_CASES: { name: string; before: JournalRecord[]; last: JournalRecord }[] = [
  { name: 'the only record', before: [], last: { op: 'absent', path: '/etc/pip.conf' } },
  { name: 'after two records, non-ASCII last', before: [EVERY_KIND[0]!.record, EVERY_KIND[4]!.record], last: EVERY_KIND[9]!.record },
  { name: 'a file record after every other kind', before: EVERY_KIND.filter((r) => r.kind !== 'file').map((r) => r.record), last: EVERY_KIND[4]!.record },
];

for (const row of TORN_CASES) {
  test(`journal torn tail: ${row.name}, cut at every byte of the last record`, () => {
    const goodText = journalOf(row.before);
    const goodBytes = Buffer.byteLength(goodText);
    const full = Buffer.from(goodText + encodeRecord(row.last));
    for (let end = goodBytes; end < full.length; end++) {
      const text = full.subarray(0, end).toString('utf8');
      assert.deepEqual(decodeJournal(text, PATH), { records: row.before, validBytes: goodBytes }, `cut at byte ${end} of ${full.length}`);
    }
    assert.deepEqual(decodeJournal(full.toString('utf8'), PATH), { records: [...row.before, row.last], validBytes: full.length });
  });
}

test('journal torn tail: a complete but damaged last line is ignored too', () => {
  const before = [EVERY_KIND[0]!.record, EVERY_KIND[2]!.record];
  const goodText = journalOf(before);
  const damaged = encodeRecord({ op: 'configured' }).replace('configured', 'configureX');
  assert.deepEqual(decodeJournal(goodText + damaged, PATH), { records: before, validBytes: Buffer.byteLength(goodText) });
});

// A bad line followed by a good one: the file was damaged, not torn. Restore must refuse to guess.
const good = (i: number): string => encodeRecord(EVERY_KIND[i]!.record);
/** A line in the documented format (`<bytes> <CRC-32 as 8 hex> <json>`) around any text; zlib's CRC-32 checks ours. */
const withChecksum = (json: string): string => `${Buffer.byteLength(json)} ${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
/** Change the first checksum digit to another hex digit. */
const flipChecksum = (line: string): string => line.replace(/^(\d+) (.)/, (_m, n: string, c: string) => `${n} ${c === '0' ? '1' : '0'}`);

const DAMAGED_MIDDLE: { name: string; lines: string[]; badRecord: number }[] = [
  { name: 'one JSON character changed', lines: [good(0), good(3).replace('pydistutils', 'pydistutilz'), good(7)], badRecord: 2 },
  { name: 'checksum changed', lines: [good(0), flipChecksum(good(2)), good(7)], badRecord: 2 },
  { name: 'length changed', lines: [good(2).replace(/^\d+/, (n) => String(Number(n) + 1)), good(7)], badRecord: 1 },
  { name: 'an empty line', lines: [good(0), '\n', good(7)], badRecord: 2 },
  { name: 'a line of garbage', lines: [good(0), good(2), 'garbage\n', good(8)], badRecord: 3 },
  { name: 'a torn record followed by a good one (interleaved writes)', lines: [good(0), good(4).slice(0, 40) + '\n', good(7)], badRecord: 2 },
  // A line whose length and checksum match but whose JSON does not parse (checksum is over the JSON bytes only).
  { name: 'matching checksum over text that is not JSON', lines: [withChecksum('{"op":"configured"'), good(7)], badRecord: 1 },
];

for (const row of DAMAGED_MIDDLE) {
  test(`journal damaged middle line throws StateError: ${row.name}`, () => {
    const text = JOURNAL_HEADER + '\n' + row.lines.join('');
    assert.throws(
      () => decodeJournal(text, PATH),
      (error: unknown) => {
        assert.ok(error instanceof StateError, `expected StateError, got ${String(error)}`);
        assert.equal(error.exitCode, 1);
        assert.equal(error.message, `${PATH}: record ${row.badRecord} is damaged; refusing to guess what to restore`);
        return true;
      },
    );
  });
}

test('journal: the test helper writes the same format as encodeRecord (so the non-JSON row reaches JSON.parse)', () => {
  for (const { record } of EVERY_KIND) assert.equal(withChecksum(JSON.stringify(record)), encodeRecord(record));
});

const WRONG_HEADERS: { name: string; text: string; shown: string }[] = [
  { name: 'another version', text: 'dib-pypi-journal v2\n', shown: '"dib-pypi-journal v2"' },
  { name: 'a record where the header should be', text: encodeRecord({ op: 'configured' }), shown: '"19 5ffdc13b {\\"op\\":\\"configured\\"}"' },
  { name: 'CRLF line end', text: 'dib-pypi-journal v1\r\n' + encodeRecord({ op: 'configured' }), shown: '"dib-pypi-journal v1\\r"' },
  { name: 'leading blank line', text: '\ndib-pypi-journal v1\n', shown: '""' },
  { name: 'a long first line is cut to 40 characters', text: 'x'.repeat(100) + '\n', shown: JSON.stringify('x'.repeat(40)) },
  { name: 'a byte-order mark', text: '\ufeffdib-pypi-journal v1\n', shown: '"\ufeffdib-pypi-journal v1"' },
];

for (const row of WRONG_HEADERS) {
  test(`journal wrong header throws StateError: ${row.name}`, () => {
    assert.throws(
      () => decodeJournal(row.text, PATH),
      (error: unknown) => {
        assert.ok(error instanceof StateError, `expected StateError, got ${String(error)}`);
        assert.equal(error.message, `${PATH}: not a dib-pypi journal (first line ${row.shown})`);
        return true;
      },
    );
  });
}
