// The pure core of progress display: the line's text (counts, rate, ETA), the rate window, and when lines and repaints are due.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatPhaseEnd, formatProgress, ProgressPolicy, RateWindow, type ProgressSnapshot } from '../../../src/cli/progress.js';
import { parseProgressInterval, resolveProgressMode } from '../../../src/cli/progress-flags.js';

test('durations are short: seconds, minutes and seconds, hours and minutes', () => {
  const rows: [number, string][] = [
    [0, '0s'],
    [44_600, '45s'],
    [185_000, '3m05s'],
    [3_720_000, '1h02m'],
  ];
  for (const [ms, text] of rows) assert.equal(formatDuration(ms), text, String(ms));
});

test('a progress line: count, percentage, bytes, rate and ETA (by bytes when their total is known)', () => {
  const hashing: ProgressSnapshot = { phase: 'verify: hashing', done: 1200, total: 40_000, unit: 'files', bytes: 12e6, totalBytes: 400e6 };
  const rows: [ProgressSnapshot, Parameters<typeof formatProgress>[1], string][] = [
    [{ phase: 'index: scanning', done: 0, total: 0 }, undefined, 'index: scanning...'],
    [{ phase: 'index: inspecting', done: 50, total: 200, unit: 'files' }, undefined, 'index: inspecting 50/200 files (25%), ETA --'],
    [{ phase: 'index: inspecting', done: 50, total: 200, unit: 'files' }, { itemsPerSecond: 25 }, 'index: inspecting 50/200 files (25%), 25 files/s, ETA 6s'],
    [{ phase: 'index: inspecting', done: 50, total: 200, unit: 'files' }, { itemsPerSecond: 0 }, 'index: inspecting 50/200 files (25%), 0 files/s, ETA --'],
    [{ phase: 'x', done: 3, total: 0, unit: 'files' }, { itemsPerSecond: 1.25 }, 'x 3 files, 1.3 files/s'],
    [hashing, undefined, 'verify: hashing 1200/40000 files (3%), 12.0 MB of 400.0 MB, ETA --'],
    [hashing, { itemsPerSecond: 850, bytesPerSecond: 9.7e6 }, 'verify: hashing 1200/40000 files (3%), 12.0 MB of 400.0 MB, 850 files/s, 9.7 MB/s, ETA 40s'],
    [
      { phase: 'sync: downloading', done: 3, total: 12, unit: 'projects', bytes: 5e6, detail: '40/90 files' },
      { itemsPerSecond: 0.5, bytesPerSecond: 1e6 },
      'sync: downloading 3/12 projects (25%), 5.0 MB, 40/90 files, 0.5 projects/s, 1.0 MB/s, ETA 18s',
    ],
  ];
  for (const [snapshot, rate, text] of rows) assert.equal(formatProgress(snapshot, rate), text);
});

test('a phase end line: counts, time taken and the average rate (from one second on)', () => {
  assert.equal(formatPhaseEnd({ phase: 'index: scanning', done: 0 }, 1234), 'index: scanning done in 1.2 s');
  assert.equal(formatPhaseEnd({ phase: 'p', done: 10, total: 10, unit: 'files' }, 500), 'p 10/10 files (100%), done in 0.5 s');
  assert.equal(
    formatPhaseEnd({ phase: 'p', done: 100, total: 100, unit: 'files', bytes: 4e6 }, 2000),
    'p 100/100 files (100%), 4.0 MB, done in 2.0 s, 50 files/s, 2.0 MB/s',
  );
});

test('the rate window: nothing until two seconds of samples, then the rate over the last ten seconds', () => {
  const window = new RateWindow();
  window.add(0, 0, 0);
  window.add(1000, 100, 1000);
  assert.equal(window.rate(true), undefined);
  window.add(2000, 200, 2000);
  assert.deepEqual(window.rate(true), { itemsPerSecond: 100, bytesPerSecond: 1000 });
  // Fast at first, then 10/s for 20 s: the window forgets the fast start.
  for (let t = 3000; t <= 22_000; t += 1000) window.add(t, 200 + (t - 2000) / 100, 0);
  assert.equal(window.rate(false)?.itemsPerSecond, 10);
  // Many reports within one sampling period stay O(1) and still count.
  for (let i = 1; i <= 1000; i++) window.add(22_000 + i / 10, 400 + i, 0);
  assert.ok((window.rate(false)?.itemsPerSecond ?? 0) > 100);
});

test('plain mode: a line once a phase has run a moment, then at most one per interval, an end line when the next phase starts and at the end', () => {
  const policy = new ProgressPolicy({ mode: 'plain', plainIntervalMs: 5000 });
  const hash = (done: number): ProgressSnapshot => ({ phase: 'verify: hashing', done, total: 1000, unit: 'files' });
  const seen: [number, string[] | undefined][] = [];
  const at = (now: number, s: ProgressSnapshot) => {
    const out = policy.report(now, s);
    assert.ok(out === undefined || out.kind === 'lines');
    seen.push([now, out?.kind === 'lines' ? out.lines : undefined]);
  };
  at(0, hash(0));
  at(500, hash(50));
  at(1000, hash(100));
  at(5999, hash(599));
  at(6000, hash(600));
  assert.equal(policy.tick(10_999), undefined);
  // Stalled since 6000: the rate over the last ten seconds falls, the ETA grows.
  assert.deepEqual(policy.tick(11_000), { kind: 'lines', lines: ['verify: hashing 600/1000 files (60%), 50 files/s, ETA 8s, 11s elapsed'] });
  at(12_000, { phase: 'verify: comparing pages', done: 0, total: 3, unit: 'projects' });
  assert.equal(policy.end(12_500), 'verify: comparing pages 0/3 projects (0%), done in 0.5 s');
  assert.equal(policy.end(13_000), undefined);
  assert.deepEqual(seen, [
    [0, undefined],
    [500, undefined],
    [1000, ['verify: hashing 100/1000 files (10%), ETA --']],
    [5999, undefined],
    [6000, ['verify: hashing 600/1000 files (60%), 100 files/s, ETA 4s, 6s elapsed']],
    [12_000, ['verify: hashing 600/1000 files (60%), done in 12.0 s, 50 files/s']],
  ]);
});

test('plain mode: a phase over within its first moment gets its end line only; a finished count shows no ETA', () => {
  const policy = new ProgressPolicy({ mode: 'plain', plainIntervalMs: 5000 });
  assert.equal(policy.report(0, { phase: 'index: scanning', done: 0 }), undefined);
  assert.deepEqual(policy.report(300, { phase: 'index: inspecting', done: 2, total: 2, unit: 'files' }), {
    kind: 'lines',
    lines: ['index: scanning done in 0.3 s'],
  });
  assert.deepEqual(policy.tick(1300), { kind: 'lines', lines: ['index: inspecting 2/2 files (100%)'] });
  assert.equal(policy.end(1400), 'index: inspecting 2/2 files (100%), done in 1.1 s, 1.8 files/s');
});

test('terminal mode: a repaint at most every 100 ms, nothing kept at a phase end', () => {
  const policy = new ProgressPolicy({ mode: 'tty', plainIntervalMs: 5000 });
  const s = (done: number): ProgressSnapshot => ({ phase: 'index: inspecting', done, total: 10, unit: 'files' });
  assert.deepEqual(policy.report(0, s(0)), { kind: 'repaint', text: 'index: inspecting 0/10 files (0%), ETA --' });
  assert.equal(policy.report(50, s(1)), undefined);
  assert.deepEqual(policy.report(100, s(2)), { kind: 'repaint', text: 'index: inspecting 2/10 files (20%), ETA --' });
  assert.equal(policy.report(150, s(3)), undefined);
  assert.equal(policy.end(200), undefined);
});

test('the mode: --quiet beats all, the flag beats DIB_PYPI_PROGRESS, auto follows the terminal', () => {
  const rows: [Parameters<typeof resolveProgressMode>[0], Record<string, string>, boolean, string][] = [
    [{}, {}, true, 'tty'],
    [{}, {}, false, 'plain'],
    [{ progress: 'auto' }, { DIB_PYPI_PROGRESS: 'none' }, true, 'tty'],
    [{}, { DIB_PYPI_PROGRESS: 'none' }, true, 'none'],
    [{}, { DIB_PYPI_PROGRESS: 'plain' }, true, 'plain'],
    [{ progress: 'tty' }, {}, false, 'tty'],
    [{ progress: 'tty', quiet: true }, {}, true, 'none'],
    [{ quiet: true }, { DIB_PYPI_PROGRESS: 'bogus' }, true, 'none'],
  ];
  for (const [flags, env, isTTY, mode] of rows) assert.equal(resolveProgressMode(flags, env, isTTY), mode, JSON.stringify([flags, env, isTTY]));
  assert.throws(() => resolveProgressMode({ progress: 'fancy' }, {}, true), /^UsageError: --progress: expected auto, tty, plain or none, got "fancy"$/);
  assert.throws(() => resolveProgressMode({}, { DIB_PYPI_PROGRESS: 'yes' }, true), /DIB_PYPI_PROGRESS: expected auto/);
  assert.equal(parseProgressInterval('0.2', 'V'), 200);
  for (const bad of ['', '0', '-1', 'x'])
    assert.throws(() => parseProgressInterval(bad, 'DIB_PYPI_PROGRESS_INTERVAL'), /DIB_PYPI_PROGRESS_INTERVAL: expected a number of seconds above 0/);
});
