// Inspect one distribution file: hash it in one streaming read, and take its core metadata from the archive (the mirror's only reader of distribution bytes).
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { eq as versionsEqual, valid as validVersion } from '@renovatebot/pep440';
import type yauzl from 'yauzl';
import { parseCoreMetadata } from '../../pypi/core-metadata.js';
import { sdistNameMatches } from '../../pypi/dist-filename.js';
import { BrokenDistributionError } from '../../pypi/errors.js';
import { normalizeProjectName } from '../../pypi/project-name.js';
import { TarFormatError, TarScanner, type TarMember } from './tar-scanner.js';
import type { CoreMetadata, DistFilename, InspectedDistribution } from '../../pypi/types.js';
import { findMember, openZip, readRange, readSmallMember, ZipMemberError, type ZipSource } from './zip-members.js';
import { listZipEntries, readZipEntry, type ZipEntry } from './zip-sync.js';

/**
 * Read size: a file that fits in one read is then parsed from memory (most wheels and sdists are
 * smaller), a larger one is streamed through this buffer and its zip directory read by position.
 */
export const CHUNK_BYTES = 1024 * 1024;
/** A METADATA or PKG-INFO larger than this is not metadata (the largest on PyPI are a few MB of description). */
export const MAX_METADATA_BYTES = 32 * 1024 * 1024;
/** A small .tar.gz is gunzipped in memory up to this size; past it, it is streamed. */
const MAX_INFLATED_IN_MEMORY = 16 * 1024 * 1024;
/** Read buffers kept for reuse: thousands of fresh 1 MiB buffers make V8 collect far more often than the work needs. */
const MAX_SPARE_BUFFERS = 16;
const spareBuffers: Buffer[] = [];

/**
 * Stricter checks for a file that comes from outside (an upload), on top of the indexer's:
 * - `strict`: every archive member's name is checked (no absolute path, no `..`, no link out of
 *   the archive, no device), and an sdist must have a top-level PKG-INFO that parses;
 * - `maxInflatedBytes`: a `.tar.gz` that inflates past this is refused (a gzip bomb).
 */
export interface InspectOptions {
  strict?: boolean;
  maxInflatedBytes?: number;
}

/** An open distribution file, with the read buffer lent to it for this inspection. */
interface OpenFile {
  path: string;
  handle: FileHandle;
  buffer: Buffer;
  options: InspectOptions;
}

function broken(path: string, reason: string, cause?: unknown): BrokenDistributionError {
  return new BrokenDistributionError(path, reason, cause === undefined ? undefined : { cause });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

// ---- the one read: sha256 and size; the bytes themselves when the file fits in one buffer ----

interface HashedFile {
  size: number;
  sha256: string;
  /** The whole file (a view of the lent buffer), when it fit in it. */
  whole: Buffer | undefined;
}

/** Fill the lent buffer from the start of the file; `isWhole` when the file ended inside it. */
async function readFirstChunk({ handle, buffer }: OpenFile): Promise<{ first: Buffer; isWhole: boolean }> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) return { first: buffer.subarray(0, filled), isWhole: true };
    filled += bytesRead;
  }
  return { first: buffer, isWhole: false };
}

async function hashFile(file: OpenFile): Promise<HashedFile> {
  const { first, isWhole } = await readFirstChunk(file);
  const hash = createHash('sha256').update(first);
  let size = first.length;
  if (isWhole) return { size, sha256: hash.digest('hex'), whole: first };
  const { handle, buffer } = file;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { size, sha256: hash.digest('hex'), whole: undefined };
}

function zipSource(file: OpenFile, hashed: HashedFile): ZipSource {
  return hashed.whole !== undefined ? { buffer: hashed.whole } : { handle: file.handle, size: hashed.size };
}

/** Read one member of a zip, or undefined when `find` finds none; damage throws `BrokenDistributionError`. */
async function readZipMember(file: OpenFile, hashed: HashedFile, find: (zip: yauzl.ZipFile) => Promise<yauzl.Entry | undefined>): Promise<Buffer | undefined> {
  try {
    const source = zipSource(file, hashed);
    const zip = await openZip(source);
    const entry = await find(zip);
    const data = entry === undefined ? undefined : await readSmallMember(zip, entry, source, MAX_METADATA_BYTES);
    zip.close();
    return data;
  } catch (error) {
    if (error instanceof ZipMemberError) throw broken(file.path, error.message, error);
    throw broken(file.path, `not a readable zip file: ${firstLine(error)}`, error);
  }
}

/** A zip from outside with more members than this is refused (its central directory is read whole). */
export const MAX_STRICT_ZIP_MEMBERS = 500_000;

/**
 * Every member of the zip (yauzl refuses absolute names, `..` and backslashes as it reads them); of
 * those `keep` accepts (few: memory stays small), the one `pick` picks.
 */
async function pickAfterAll(
  zip: yauzl.ZipFile,
  keep: (name: string) => boolean,
  pick: (kept: { name: string; entry: yauzl.Entry }[]) => { entry: yauzl.Entry } | undefined,
): Promise<yauzl.Entry | undefined> {
  if (zip.entryCount > MAX_STRICT_ZIP_MEMBERS) throw new ZipMemberError(`${zip.entryCount} members, more than the ${MAX_STRICT_ZIP_MEMBERS} allowed`);
  const kept: { name: string; entry: yauzl.Entry }[] = [];
  for await (const entry of zip.eachEntry()) if (keep(entry.fileName) && kept.length < 1000) kept.push({ name: entry.fileName, entry });
  return pick(kept)?.entry;
}

// ---- wheels ----

/** `-`, `_`, `.` runs as `_`, lower case: how wheel and `.dist-info` names compare (wheel spec, escaped names). */
function distInfoKey(text: string): string {
  return text.replace(/[-_.]+/g, '_').toLowerCase();
}

/**
 * The wheel's `.dist-info/METADATA`: the directory whose name is the file's `name-version`
 * (compared as escaped names). Failing that, as pip's `wheel_dist_info_dir`
 * (`pip/_internal/utils/wheel.py`): the only `.dist-info` whose normalised name starts with the project's.
 */
async function findWheelMetadata(zip: yauzl.ZipFile, filename: DistFilename): Promise<yauzl.Entry | undefined> {
  const wanted = distInfoKey(`${filename.name}-${filename.version}.dist-info`) + '/METADATA';
  const isMetadata = (name: string) => name.endsWith('.dist-info/METADATA') && name.indexOf('/') === name.length - '/METADATA'.length;
  const others: yauzl.Entry[] = [];
  const exact = await findMember(zip, (name) => isMetadata(name) && distInfoKey(name.slice(0, -'/METADATA'.length)) + '/METADATA' === wanted, (entry) => {
    if (isMetadata(entry.fileName)) others.push(entry);
  });
  if (exact !== undefined) return exact;
  const prefixed = others.filter((entry) => normalizeProjectName(entry.fileName).startsWith(filename.normalized));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

function isSameVersion(a: string, b: string): boolean {
  return validVersion(a) !== null && validVersion(b) !== null ? versionsEqual(a, b) : a === b;
}

/**
 * pip (`_check_metadata_consistency`, resolution/resolvelib/candidates.py) refuses a wheel whose
 * METADATA names another project or version than its file name; so do we, before serving it.
 */
function checkWheelCore(core: CoreMetadata, filename: DistFilename, path: string): void {
  if (normalizeProjectName(core.name) !== filename.normalized) throw broken(path, `METADATA names project "${core.name}", the file name "${filename.name}"`);
  if (!isSameVersion(core.version, filename.version)) throw broken(path, `METADATA has version "${core.version}", the file name "${filename.version}"`);
}

async function inspectWheel(file: OpenFile, filename: DistFilename): Promise<InspectedDistribution> {
  const hashed = await hashFile(file);
  const find =
    file.options.strict === true
      ? (zip: yauzl.ZipFile) => pickAfterAll(zip, (name) => name.endsWith('.dist-info/METADATA'), (kept) => wheelMetadataEntry(kept, filename))
      : (zip: yauzl.ZipFile) => findWheelMetadata(zip, filename);
  const metadata = await readZipMember(file, hashed, find);
  if (metadata === undefined) throw broken(file.path, `no ${filename.name}-${filename.version}.dist-info/METADATA in the wheel`);
  const core = parseCoreMetadata(metadata, file.path);
  checkWheelCore(core, filename, file.path);
  const metadataSha256 = createHash('sha256').update(metadata).digest('hex');
  return { filename, size: hashed.size, sha256: hashed.sha256, metadata, metadataSha256, core };
}

// ---- sdists ----

/** The sdist's `<top>/PKG-INFO`, exactly one level deep (not `<top>/<pkg>.egg-info/PKG-INFO`). */
function isTopPkgInfo(path: string): boolean {
  const parts = path.replace(/^\.\//, '').split('/');
  return parts.length === 2 && parts[0] !== '' && parts[1] === 'PKG-INFO';
}

/**
 * An sdist's PKG-INFO is informative (pip builds the sdist, never reads it): used only when it
 * parses and names a project the file name can belong to by pip's rule (`sdistNameMatches`), so
 * for `foo-v2-1.tar.gz` PKG-INFO may settle between `foo` and `foo-v2`.
 */
function sdistCore(data: Buffer | undefined, path: string, strict = false): { core?: CoreMetadata } {
  if (strict) {
    // An upload is checked against its form by the caller; here it must merely have metadata.
    if (data === undefined) throw broken(path, 'no PKG-INFO at the top of the sdist (<name>-<version>/PKG-INFO)');
    return { core: parseCoreMetadata(data, path) };
  }
  if (data === undefined) return {};
  try {
    const core = parseCoreMetadata(data);
    return sdistNameMatches(basename(path), core.name) ? { core } : {};
  } catch (error) {
    if (error instanceof BrokenDistributionError) return {};
    throw error;
  }
}

async function inspectZipSdist(file: OpenFile, filename: DistFilename): Promise<InspectedDistribution> {
  const hashed = await hashFile(file);
  const strict = file.options.strict === true;
  const find = strict ? (zip: yauzl.ZipFile) => pickAfterAll(zip, isTopPkgInfo, (kept) => kept[0]) : (zip: yauzl.ZipFile) => findMember(zip, isTopPkgInfo);
  const pkgInfo = await readZipMember(file, hashed, find);
  return { filename, size: hashed.size, sha256: hashed.sha256, ...sdistCore(pkgInfo, file.path, strict) };
}

/** Feeds the tar scanner, at most `maxBytes` of it; its errors fail the pipeline. */
function tarSink(scanner: TarScanner, maxBytes = Infinity): Writable {
  let total = 0;
  const attempt = (step: () => void, callback: (error?: Error | null) => void) => {
    try {
      step();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  };
  return new Writable({
    write: (chunk: Buffer, _encoding, callback) =>
      attempt(() => {
        total += chunk.length;
        if (total > maxBytes) throw new TarFormatError(`the archive inflates to more than ${maxBytes} bytes`);
        scanner.write(chunk);
      }, callback),
    final: (callback) => attempt(() => scanner.end(), callback),
  });
}

function newTarScanner(strict = false): TarScanner {
  return new TarScanner((member: TarMember) => isTopPkgInfo(member.path) && '07\0'.includes(member.type), MAX_METADATA_BYTES, strict ? tarMemberChecker() : undefined);
}

/** Symlinks one name may go through before it is refused (a loop, or a long chain): the kernel's ELOOP limit. */
export const MAX_LINK_STEPS = 40;
/** Path components one name may walk, its links' included, before it is refused. */
const MAX_WALKED_PARTS = 4096;
/** Path components a whole archive may walk through its symlinks (a few seconds' work at most), before it is refused. */
const MAX_ARCHIVE_WALKED_PARTS = 16 * 1024 * 1024;
/** A link target longer than this is refused (Linux's PATH_MAX: extraction would fail with ENAMETOOLONG). */
const MAX_LINK_TARGET_BYTES = 4095;

/** A directory of the extracted tree that holds symlinks (at some depth), or a symlink (`link`, its target). */
interface LinkNode {
  children: Map<string, LinkNode>;
  link?: string;
}

function pathParts(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Where `path` (from the archive root) lands once the symlinks in `root` are followed, as
 * `os.path.realpath` would on the tree extracted so far: its parts from the root, or undefined
 * when it leaves the root. A loop or a chain of more than MAX_LINK_STEPS links throws.
 */
function resolveThroughLinks(root: LinkNode, path: string, member: string, budget: { parts: number }): string[] | undefined {
  const parts: string[] = [];
  // nodes[i]: the node of parts[0..i), undefined off the tree (no symlink below).
  const nodes: (LinkNode | undefined)[] = [root];
  const todo = pathParts(path).reverse();
  let links = 0;
  let walked = 0;
  for (let part = todo.pop(); part !== undefined; part = todo.pop()) {
    if (++walked > MAX_WALKED_PARTS) throw new TarFormatError(`${member}: more than ${MAX_WALKED_PARTS} path components to resolve`);
    if (--budget.parts < 0) throw new TarFormatError(`more than ${MAX_ARCHIVE_WALKED_PARTS} path components to resolve through the archive's symlinks`);
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
      nodes.pop();
      continue;
    }
    const node = nodes[nodes.length - 1]?.children.get(part);
    if (node?.link === undefined) {
      parts.push(part);
      nodes.push(node);
      continue;
    }
    if (++links > MAX_LINK_STEPS) throw new TarFormatError(`${member} goes through more than ${MAX_LINK_STEPS} symlinks (a symlink loop?)`);
    if (node.link.startsWith('/')) return undefined;
    const target = pathParts(node.link);
    for (let i = target.length - 1; i >= 0; i--) todo.push(target[i] as string);
  }
  return parts;
}

/** The symlink at `parts` (from the root): its target, or undefined when there is none. */
function linkAt(root: LinkNode, parts: string[]): string | undefined {
  let node: LinkNode | undefined = root;
  for (const part of parts) node = node?.children.get(part);
  return node?.link;
}

/** The node at `parts` (from the root), made when missing. */
function linkNodeAt(root: LinkNode, parts: string[]): LinkNode {
  let node = root;
  for (const part of parts) {
    let child = node.children.get(part);
    if (child === undefined) node.children.set(part, (child = { children: new Map() }));
    node = child;
  }
  return node;
}

/**
 * The check of every member of an archive from outside, in archive order (one checker per
 * archive): what Python's `tarfile.data_filter` (PEP 706, what pip extracts sdists with) refuses.
 * Absolute names, `..` in names, devices and FIFOs; a name that lands outside the archive through
 * the symlinks before it (`os.path.realpath(dest/name)`); a symlink whose target, from its own
 * directory, or a hard link whose target, from the root, lands outside (absolute, `..` past the
 * root, or through earlier symlinks), as realpath would resolve it on the tree extracted so far.
 * Stricter than the filter: a symlink loop or a chain of more than MAX_LINK_STEPS links, and a
 * link target that leaves the root on its way back in, are refused too.
 */
export function tarMemberChecker(): (member: TarMember) => void {
  const root: LinkNode = { children: new Map() };
  let hasSymlinks = false;
  const budget = { parts: MAX_ARCHIVE_WALKED_PARTS };
  return (member: TarMember) => {
    const path = member.path;
    if (path.startsWith('/') || path.split('/').includes('..')) throw new TarFormatError(`unsafe member name ${JSON.stringify(path)}`);
    if (member.type === '3' || member.type === '4' || member.type === '6') throw new TarFormatError(`${path} is a device or FIFO (tar type ${member.type})`);
    const linkPath = member.linkPath;
    if (linkPath === undefined && !hasSymlinks) return; // no symlink yet: the name was checked whole above
    const resolve = (target: string) => resolveThroughLinks(root, target, path, budget);
    if (resolve(path) === undefined) throw new TarFormatError(`${path} lands outside the archive through its symlinks`);
    if (linkPath === undefined) return;
    const outside = () => new TarFormatError(`${path} links outside the archive (to ${JSON.stringify(linkPath)})`);
    if (linkPath.startsWith('/')) throw outside();
    if (Buffer.byteLength(linkPath) > MAX_LINK_TARGET_BYTES) throw new TarFormatError(`${path} links to a target longer than ${MAX_LINK_TARGET_BYTES} bytes`);
    const nameParts = pathParts(path);
    const base = nameParts.pop();
    const parent = resolve(nameParts.join('/'));
    if (base === undefined || parent === undefined) throw new TarFormatError(`unsafe member name ${JSON.stringify(path)}`);
    let symlinkTarget: string | undefined;
    if (member.type === '2') {
      if (resolve(`${nameParts.join('/')}/${linkPath}`) === undefined) throw outside();
      symlinkTarget = linkPath;
    } else {
      if (resolve(linkPath) === undefined) throw outside();
      // A hard link to a symlink can be extracted as a copy of that symlink, here: checked as one.
      const targetParts = pathParts(linkPath);
      const targetBase = targetParts.pop();
      const targetParent = targetBase === undefined || targetBase === '..' ? undefined : resolve(targetParts.join('/'));
      const link = targetParent === undefined ? undefined : linkAt(root, [...targetParent, targetBase as string]);
      if (link !== undefined) {
        if (link.startsWith('/') || resolve(`${nameParts.join('/')}/${link}`) === undefined) throw outside();
        symlinkTarget = link;
      }
    }
    if (symlinkTarget === undefined) return;
    // Extraction replaces what was at the name's place (its parent's symlinks followed) with the symlink.
    linkNodeAt(root, [...parent, base]).link = symlinkTarget;
    hasSymlinks = true;
    resolve(path); // throws when the new link closes a loop
  };
}

/** zlib and tar failures as one-line reasons; anything else (I/O) as it is. */
function tarFailure(path: string, error: unknown): unknown {
  if (error instanceof TarFormatError) return broken(path, error.message, error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR') return broken(path, 'truncated gzip stream (unexpected end of file)', error);
  if (code?.startsWith('Z_')) return broken(path, `not a gzip stream, or damaged: ${firstLine(error)}`, error);
  return error;
}

/**
 * A small archive (read whole already): gunzipped and scanned in memory, with no stream set-up.
 * Undefined when it inflates past MAX_INFLATED_IN_MEMORY: then it is streamed like a big one.
 */
function scanWholeTar(whole: Buffer, isGzip: boolean, path: string, options: InspectOptions = {}): TarScanner | undefined {
  const scanner = newTarScanner(options.strict);
  try {
    // Past either limit, the stream below says which.
    scanner.write(isGzip ? gunzipSync(whole, { maxOutputLength: Math.min(MAX_INFLATED_IN_MEMORY, options.maxInflatedBytes ?? Infinity) }) : whole);
    scanner.end();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw tarFailure(path, error);
  }
  return scanner;
}

/** The archive from `first` (the bytes already read) on, through the hash, gunzip and the tar scanner. */
async function scanTarStream(file: OpenFile, first: Buffer, isGzip: boolean): Promise<{ scanner: TarScanner; size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const rest = readRange(file.handle, first.length, Infinity, 256 * 1024);
  const source = async function* () {
    if (first.length > 0) yield Buffer.from(first); // a copy: the lent buffer goes back to the pool
    yield* rest;
  };
  const scanner = newTarScanner(file.options.strict);
  const sink = tarSink(scanner, file.options.maxInflatedBytes);
  try {
    await (isGzip ? pipeline(source, tap, createGunzip(), sink) : pipeline(source, tap, sink));
  } catch (error) {
    throw tarFailure(file.path, error);
  }
  return { scanner, size, sha256: hash.digest('hex') };
}

/**
 * `.tar` / `.tar.gz` in one read: a small file in memory, a big one streamed (hashed on the way
 * in, gunzipped into the tar scanner). The whole archive is decompressed and walked, even after
 * PKG-INFO: only then is a truncated one seen.
 */
async function inspectTarSdist(file: OpenFile, filename: DistFilename, isGzip: boolean): Promise<InspectedDistribution> {
  const { first, isWhole } = await readFirstChunk(file);
  const strict = file.options.strict === true;
  const scanner = isWhole ? scanWholeTar(first, isGzip, file.path, file.options) : undefined;
  if (scanner !== undefined) {
    const sha256 = createHash('sha256').update(first).digest('hex');
    return { filename, size: first.length, sha256, ...sdistCore(scanner.found?.data, file.path, strict) };
  }
  // A big file goes on from where the first read stopped; a small one that inflates too much starts over.
  const streamed = await scanTarStream(file, isWhole ? Buffer.alloc(0) : first, isGzip);
  return { filename, size: streamed.size, sha256: streamed.sha256, ...sdistCore(streamed.scanner.found?.data, file.path, strict) };
}

async function inspectOtherSdist(file: OpenFile, filename: DistFilename): Promise<InspectedDistribution> {
  const { size, sha256 } = await hashFile(file);
  return { filename, size, sha256 };
}

/**
 * Inspect the distribution file at `path` (its name parsed as `filename`): sha256 and size from
 * one streaming read (memory stays flat however large the file), and core metadata:
 * - wheels: the exact bytes of `.dist-info/METADATA`, parsed; a wheel without it, a damaged zip,
 *   or METADATA naming another project or version throws `BrokenDistributionError`;
 * - `.tar.gz` / `.tgz` / `.tar` / `.zip` sdists: `<top>/PKG-INFO` parsed, when there is one and
 *   the file name can be its project's (`sdistNameMatches`; old sdists have none); a truncated
 *   or damaged archive throws;
 * - `.tar.bz2` / `.tar.xz` sdists: hashed only.
 * I/O errors (ENOENT, EACCES, EISDIR) are thrown as they are. With `source`, the bytes are read from
 * there (a download's temp file) while `path` still names the file and picks its format.
 * `options` adds the checks an upload needs (InspectOptions).
 */
export async function inspectDistribution(path: string, filename: DistFilename, source = path, options: InspectOptions = {}): Promise<InspectedDistribution> {
  const handle = await open(source, 'r');
  const file: OpenFile = { path, handle, buffer: spareBuffers.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES), options };
  try {
    if (filename.kind === 'wheel') return await inspectWheel(file, filename);
    if (path.endsWith('.zip')) return await inspectZipSdist(file, filename);
    if (path.endsWith('.tar.gz') || path.endsWith('.tgz')) return await inspectTarSdist(file, filename, true);
    if (path.endsWith('.tar')) return await inspectTarSdist(file, filename, false);
    return await inspectOtherSdist(file, filename);
  } finally {
    await handle.close();
    // Nothing returned views the buffer: member bytes are copied out, `whole` stays inside.
    if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(file.buffer);
  }
}

// ---- the synchronous path: a file that fits in one read, parsed in memory ----

let syncBuffer: Buffer | undefined;

/**
 * The whole file (open as `fd`, read from its start) when it fits in one CHUNK_BYTES read, else
 * undefined (the async path streams it). With `knownSize` (just stat'ed) it stops at that size,
 * saving the read that would return 0.
 */
function readWholeSync(fd: number, knownSize?: number): Buffer | undefined {
  if (knownSize !== undefined && knownSize >= CHUNK_BYTES) return undefined;
  syncBuffer ??= Buffer.allocUnsafe(CHUNK_BYTES + 1);
  let filled = 0;
  for (;;) {
    if (knownSize !== undefined && filled === knownSize) break;
    const read = readSync(fd, syncBuffer, filled, syncBuffer.length - filled, filled);
    if (read === 0) break;
    filled += read;
    if (filled === syncBuffer.length) return undefined; // bigger than one chunk
  }
  return syncBuffer.subarray(0, filled);
}

function zipMemberSync(path: string, whole: Buffer, wants: (names: ZipEntry[]) => ZipEntry | undefined): Buffer | undefined | 'zip64' {
  try {
    const entries = listZipEntries(whole);
    if (entries === undefined) return 'zip64';
    const entry = wants(entries);
    return entry === undefined ? undefined : readZipEntry(whole, entry, MAX_METADATA_BYTES);
  } catch (error) {
    if (error instanceof ZipMemberError) throw broken(path, error.message, error);
    throw error;
  }
}

/** As findWheelMetadata, on a whole central directory. */
function wheelMetadataEntry<T extends { name: string }>(entries: T[], filename: DistFilename): T | undefined {
  const wanted = distInfoKey(`${filename.name}-${filename.version}.dist-info`) + '/METADATA';
  const isMetadata = (name: string) => name.endsWith('.dist-info/METADATA') && name.indexOf('/') === name.length - '/METADATA'.length;
  const candidates = entries.filter((e) => isMetadata(e.name));
  const exact = candidates.find((e) => distInfoKey(e.name.slice(0, -'/METADATA'.length)) + '/METADATA' === wanted);
  if (exact !== undefined) return exact;
  const prefixed = candidates.filter((e) => normalizeProjectName(e.name).startsWith(filename.normalized));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * inspectDistribution of the file open as `fd` (named `path` in errors) without any async round trip, for the common case of a file that fits in
 * one read (the indexer inspects tens of thousands of them). Returns undefined when the file
 * needs the streaming path (bigger than one read, zip64, an sdist that inflates past the
 * in-memory limit); same results and errors as inspectDistribution otherwise.
 */
export function inspectDistributionSync(fd: number, path: string, filename: DistFilename, knownSize?: number): InspectedDistribution | undefined {
  const whole = readWholeSync(fd, knownSize);
  return whole === undefined ? undefined : inspectWholeSync(path, filename, whole);
}

/**
 * inspectDistributionSync on bytes already in memory (a download that just streamed them), with their sha256
 * when known; `path` names the file in errors and picks the sdist format.
 */
export function inspectWholeSync(path: string, filename: DistFilename, whole: Buffer, knownSha256?: string): InspectedDistribution | undefined {
  const sha256 = knownSha256 ?? createHash('sha256').update(whole).digest('hex');
  const size = whole.length;
  if (filename.kind === 'wheel') {
    const metadata = zipMemberSync(path, whole, (entries) => wheelMetadataEntry(entries, filename));
    if (metadata === 'zip64') return undefined;
    if (metadata === undefined) throw broken(path, `no ${filename.name}-${filename.version}.dist-info/METADATA in the wheel`);
    const core = parseCoreMetadata(metadata, path);
    checkWheelCore(core, filename, path);
    return { filename, size, sha256, metadata, metadataSha256: createHash('sha256').update(metadata).digest('hex'), core };
  }
  if (path.endsWith('.zip')) {
    const pkgInfo = zipMemberSync(path, whole, (entries) => entries.find((e) => isTopPkgInfo(e.name)));
    if (pkgInfo === 'zip64') return undefined;
    return { filename, size, sha256, ...sdistCore(pkgInfo, path) };
  }
  const isGzip = path.endsWith('.tar.gz') || path.endsWith('.tgz');
  if (isGzip || path.endsWith('.tar')) {
    const scanner = scanWholeTar(whole, isGzip, path);
    if (scanner === undefined) return undefined;
    return { filename, size, sha256, ...sdistCore(scanner.found?.data, path) };
  }
  return { filename, size, sha256 };
}
