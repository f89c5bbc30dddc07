// The progress display of long commands: redrawn in place on a terminal, plain kept lines elsewhere, always redacted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStatusLine } from '../../../src/cli/status-line.js';

function fakeStream(isTTY: boolean, columns = 30): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, columns, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

test('status line on a terminal: one line redrawn, fitted to the width; kept lines go above it', () => {
  const { stream, written } = fakeStream(true);
  const status = createStatusLine(stream);
  assert.equal(status.isLive, true);
  status.update('collecting http://user:pw@h/simple/ and much more text');
  status.log('kept');
  status.clear();
  assert.deepEqual(written, ['\r\x1b[2Kcollecting http://user:***@h…', '\r\x1b[2Kkept\n', '\r\x1b[2Kcollecting http://user:***@h…', '\r\x1b[2K']);
});

test('status line elsewhere: no live status, kept lines plain and redacted', () => {
  const { stream, written } = fakeStream(false);
  const status = createStatusLine(stream);
  assert.equal(status.isLive, false);
  status.update('collecting x');
  status.log('saved http://t0ken@h/x.whl');
  status.clear();
  assert.deepEqual(written, ['saved http://***@h/x.whl\n']);
});

function clock(): { now: () => number; set: (t: number) => void } {
  let t = 0;
  return { now: () => t, set: (value) => void (t = value) };
}

test('progress on a terminal: redrawn in place (carriage return, clear line), throttled, redacted, removed at the end', () => {
  const { stream, written } = fakeStream(true, 80);
  const time = clock();
  const status = createStatusLine(stream, { mode: 'tty', now: time.now, hasTimer: false });
  status.progress({ phase: 'sync', done: 0, total: 4, unit: 'projects' });
  time.set(50);
  status.progress({ phase: 'sync', done: 1, total: 4, unit: 'projects' });
  time.set(150);
  status.progress({ phase: 'sync', done: 2, total: 4, unit: 'projects', detail: 'http://u:pw@h' });
  status.log('dib-pypi: retry 1/4');
  status.clear();
  assert.deepEqual(written, [
    '\r\x1b[2Ksync 0/4 projects (0%), ETA --',
    '\r\x1b[2Ksync 2/4 projects (50%), http://u:***@h, ETA --',
    '\r\x1b[2Kdib-pypi: retry 1/4\n',
    '\r\x1b[2Ksync 2/4 projects (50%), http://u:***@h, ETA --',
    '\r\x1b[2K',
  ]);
});

test('progress in a log: prefixed plain lines once a phase has run a moment, every interval and at the end; steps and info kept', () => {
  const { stream, written } = fakeStream(false);
  const time = clock();
  const status = createStatusLine(stream, { now: time.now, intervalMs: 200, hasTimer: false });
  assert.equal(status.mode, 'plain');
  for (let done = 0; done <= 10; done++) {
    time.set(done * 50);
    status.progress({ phase: 'verify: hashing', done, total: 10, unit: 'files' });
  }
  status.step('saved x.whl');
  status.info('dib-pypi: using pip 23');
  status.clear();
  assert.deepEqual(written, [
    'dib-pypi: verify: hashing 4/10 files (40%), ETA --\n',
    'dib-pypi: verify: hashing 8/10 files (80%), ETA --, 0s elapsed\n',
    'dib-pypi: saved x.whl\n',
    'dib-pypi: using pip 23\n',
    'dib-pypi: verify: hashing 10/10 files (100%), done in 0.5 s\n',
  ]);
});

test('--progress=none drops progress and steps but keeps info; --quiet keeps only what must stay (warnings, failures)', () => {
  for (const [options, kept] of [
    [{ mode: 'none' }, ['dib-pypi: using pip 23\n', 'dib-pypi: failed: x\n']],
    [{ mode: 'tty', isQuiet: true }, ['dib-pypi: failed: x\n']],
  ] as const) {
    const { stream, written } = fakeStream(true);
    const status = createStatusLine(stream, { ...options, hasTimer: false });
    assert.equal(status.isLive, false);
    status.progress({ phase: 'index: inspecting', done: 1, total: 2 });
    status.update('collecting x');
    status.step('saved x.whl');
    status.info('dib-pypi: using pip 23');
    status.log('dib-pypi: failed: x');
    status.clear();
    assert.deepEqual(written, kept);
  }
});

test('a phase that reports nothing for a while still gets its periodic lines in a log (the timer), and none after the end', async () => {
  const { stream, written } = fakeStream(false);
  const status = createStatusLine(stream, { intervalMs: 40 });
  status.progress({ phase: 'verify: hashing', done: 1, total: 2, unit: 'files' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  status.clear();
  const count = written.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(written.length, count, 'the timer stopped');
  assert.equal(written[0], 'dib-pypi: verify: hashing 1/2 files (50%), ETA --\n');
  assert.ok(written.length >= 4, written.join(''));
  for (const line of written.slice(1, -1)) assert.match(line, /^dib-pypi: verify: hashing 1\/2 files \(50%\), ETA --, 0s elapsed\n$/);
  assert.match(written.at(-1) ?? '', /^dib-pypi: verify: hashing 1\/2 files \(50%\), done in 0\.\d s\n$/);
});
