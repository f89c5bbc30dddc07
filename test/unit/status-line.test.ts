// The progress display of long commands: redrawn in place on a terminal, plain kept lines elsewhere, always redacted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStatusLine } from '../../src/cli/status-line.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, columns: 30, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

test('status line on a terminal: one line redrawn, fitted to the width; kept lines go above it', () => {
  const { stream, written } = fakeStream(true);
  const status = createStatusLine(stream);
  assert.equal(status.isLive, true);
  status.update('collecting http://user:pw@h/simple/ and much more text');
  status.log('kept');
  status.clear();
  assert.deepEqual(written, [
    '\r\x1b[2Kcollecting http://user:***@h…',
    '\r\x1b[2Kkept\n',
    '\r\x1b[2Kcollecting http://user:***@h…',
    '\r\x1b[2K',
  ]);
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
