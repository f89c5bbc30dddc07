// A minimal incremental tar reader (ustar, GNU long names, pax headers): finds one member while the archive streams by. Pure.

const BLOCK = 512;
/** Long names and pax headers larger than this are not names: the archive is damaged. */
const MAX_META_BYTES = 1024 * 1024;
const NO_DATA_TYPES = ['1', '2', '3', '4', '5', '6'];

/** The archive is not tar, or damaged; `message` says where. */
export class TarFormatError extends Error {}

export interface TarMember {
  path: string;
  /** Tar typeflag: `0` (or NUL, `7`) regular file, `5` directory, `2` symlink, ... */
  type: string;
  size: number;
  /** Symlinks (`2`) and hard links (`1`): where the link points. */
  linkPath?: string;
}

type State =
  | { at: 'header' }
  /** Member data (then padding); `into` collects it when the member is wanted or is a meta header. */
  | { at: 'data'; member: TarMember; left: number; padding: number; into: Buffer[] | undefined; meta: boolean }
  | { at: 'end' };

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

/** Numeric fields: octal text (NUL/space padded), or GNU base-256 when the top bit is set. */
function parseNumber(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (((field[0] as number) & 0x80) !== 0) {
    let value = (field[0] as number) & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (field[i] as number);
    return value;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');
  if (!/^[0-7]*$/.test(text)) return NaN;
  return text === '' ? 0 : parseInt(text, 8);
}

/** POSIX checksum: header bytes summed with the checksum field as spaces; old tars summed signed bytes. */
function hasValidChecksum(block: Buffer): boolean {
  const stored = parseNumber(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** pax extended header records: `<length> <key>=<value>\n`. */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space === -1 ? NaN : Number(data.toString('latin1', at, space));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw new TarFormatError('malformed pax extended header');
    const record = data.toString('utf8', space + 1, at + length - 1);
    const equals = record.indexOf('=');
    if (equals !== -1) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/**
 * Feed the archive's bytes with `write`, then call `end`. `wants(member)` picks the member whose
 * data `found` receives (the first one it accepts). Every header is checked, and all data is
 * accounted for, so a truncated or damaged archive throws `TarFormatError` even after the find.
 */
export class TarScanner {
  found: { member: TarMember; data: Buffer } | undefined;
  private state: State = { at: 'header' };
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private offset = 0;
  private longName: string | undefined;
  private longLink: string | undefined;
  private pax = new Map<string, string>();
  private readonly wants: (member: TarMember) => boolean;
  private readonly maxFoundBytes: number;
  private readonly onMember: ((member: TarMember) => void) | undefined;

  /** `onMember`, when given, sees every member (not the meta headers) and may throw to refuse the archive. */
  constructor(wants: (member: TarMember) => boolean, maxFoundBytes: number, onMember?: (member: TarMember) => void) {
    this.wants = wants;
    this.maxFoundBytes = maxFoundBytes;
    this.onMember = onMember;
  }

  /** Whether the end-of-archive block was seen. */
  get isAtEnd(): boolean {
    return this.state.at === 'end';
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state.at !== 'end') {
      at = this.state.at === 'header' ? this.takeHeaderBytes(chunk, at) : this.takeData(chunk, at, this.state);
    }
  }

  /** The archive ended: throw when it stopped inside a header or a member's data. */
  end(): void {
    if (this.state.at === 'data' || this.pendingBytes > 0) {
      throw new TarFormatError(`truncated tar archive: it ends inside ${this.state.at === 'data' ? `member ${this.state.member.path}` : 'a header'}`);
    }
  }

  private takeHeaderBytes(chunk: Buffer, at: number): number {
    const take = Math.min(BLOCK - this.pendingBytes, chunk.length - at);
    this.pending.push(chunk.subarray(at, at + take));
    this.pendingBytes += take;
    if (this.pendingBytes === BLOCK) {
      const block = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.readHeader(block);
      this.offset += BLOCK;
    }
    return at + take;
  }

  private takeData(chunk: Buffer, at: number, state: Extract<State, { at: 'data' }>): number {
    if (state.left > 0) {
      const take = Math.min(state.left, chunk.length - at);
      state.into?.push(chunk.subarray(at, at + take));
      state.left -= take;
      at += take;
      if (state.left > 0) return at;
      this.finishMember(state);
    }
    const skip = Math.min(state.padding, chunk.length - at);
    state.padding -= skip;
    this.offset += skip;
    if (state.padding === 0) this.state = { at: 'header' };
    return at + skip;
  }

  private readHeader(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.state = { at: 'end' };
      return;
    }
    if (!hasValidChecksum(block)) throw new TarFormatError(`not a tar archive, or damaged: bad header checksum at offset ${this.offset}`);
    const type = String.fromCharCode(block[156] as number);
    const isMeta = type === 'L' || type === 'K' || type === 'x' || type === 'g';
    const size = Number((isMeta ? undefined : this.pax.get('size')) ?? parseNumber(block, 124, 12));
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError(`bad member size in the header at offset ${this.offset}`);
    if (isMeta && size > MAX_META_BYTES) throw new TarFormatError(`${size}-byte extended header at offset ${this.offset}`);
    const member: TarMember = { path: isMeta ? cString(block, 0, 100) : this.memberPath(block), type, size };
    if (!isMeta) {
      if (type === '1' || type === '2') member.linkPath = this.pax.get('linkpath') ?? this.longLink ?? cString(block, 157, 100);
      this.longName = undefined;
      this.longLink = undefined;
      this.pax = new Map();
      this.onMember?.(member);
    }
    let into: Buffer[] | undefined;
    if (isMeta) into = [];
    else if (this.found === undefined && this.wants(member)) {
      if (size > this.maxFoundBytes) throw new TarFormatError(`${member.path} is ${size} bytes, more than the ${this.maxFoundBytes} allowed`);
      into = [];
    }
    // As Python's tarfile: links, devices, directories and FIFOs carry no data whatever their size field says.
    const dataSize = NO_DATA_TYPES.includes(type) ? 0 : size;
    const state: State = { at: 'data', member, left: dataSize, padding: (BLOCK - (dataSize % BLOCK)) % BLOCK, into, meta: isMeta };
    this.offset += dataSize;
    if (dataSize > 0) {
      this.state = state;
      return;
    }
    this.finishMember(state);
    this.state = { at: 'header' };
  }

  private memberPath(block: Buffer): string {
    const paxPath = this.pax.get('path');
    if (paxPath !== undefined) return paxPath;
    if (this.longName !== undefined) return this.longName;
    const name = cString(block, 0, 100);
    // POSIX ustar (magic `ustar\0`) splits long paths into prefix + name; GNU (`ustar  `) uses those bytes otherwise.
    const isPosix = block.toString('latin1', 257, 263) === 'ustar\0';
    const prefix = isPosix ? cString(block, 345, 155) : '';
    return prefix === '' ? name : `${prefix}/${name}`;
  }

  private finishMember(state: Extract<State, { at: 'data' }>): void {
    const data = state.into === undefined ? undefined : Buffer.concat(state.into);
    state.into = undefined;
    if (data === undefined) return;
    if (!state.meta) {
      this.found = { member: state.member, data };
      return;
    }
    if (state.member.type === 'L') this.longName = cString(data, 0, data.length);
    if (state.member.type === 'K') this.longLink = cString(data, 0, data.length);
    if (state.member.type === 'x') for (const [key, value] of parsePax(data)) this.pax.set(key, value);
  }
}
