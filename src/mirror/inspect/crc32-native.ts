// CRC-32 for the indexer's hot paths (zip members, page bytes): zlib's, where node has it (>= 20.15), else ours.
// zlib.crc32 is about ten times faster than the table loop in ../fs/crc32.ts (which the inject
// hooks keep using: they must not load zlib).
import * as zlib from 'node:zlib';
import { crc32Hex } from '../../fs/crc32.js';

const native = zlib.crc32 as typeof zlib.crc32 | undefined;

/** CRC-32 (IEEE, as zlib) of `data` (a string is taken as UTF-8). */
export function crc32(data: Uint8Array | string): number {
  return native !== undefined ? native(data) : parseInt(crc32Hex(data), 16);
}

/** The same as 8 lowercase hex digits (as ../fs/crc32.ts's crc32Hex). */
export function crc32HexFast(data: Uint8Array | string): string {
  return native !== undefined ? native(data).toString(16).padStart(8, '0') : crc32Hex(data);
}
