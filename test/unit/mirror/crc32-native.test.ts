// The indexer's CRC-32 (zlib's where node has it) gives the same values as the inject journal's table loop.
import assert from 'node:assert/strict';
import test from 'node:test';
import { crc32Hex } from '../../../src/fs/crc32.js';
import { crc32, crc32HexFast } from '../../../src/mirror/inspect/crc32-native.js';

test('crc32 and crc32HexFast agree with crc32Hex on bytes and on UTF-8 strings', () => {
  const samples: (string | Uint8Array)[] = ['', 'a', '123456789', 'Grüße, 日本 ✓', Buffer.alloc(70000, 0xa5), Uint8Array.from({ length: 255 }, (_, i) => i)];
  for (const sample of samples) {
    assert.equal(crc32HexFast(sample), crc32Hex(sample));
    assert.equal(crc32(sample), parseInt(crc32Hex(sample), 16));
  }
  assert.equal(crc32HexFast('123456789'), 'cbf43926'); // the CRC-32/ISO-HDLC check value
  assert.equal(crc32HexFast(''), '00000000');
});
