// Test fixture: write real Python distributions (wheel, sdist) and a static PEP 503 index, with no network.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ZipFile } from 'yazl';

export interface DistSpec {
  /** The project name, written to METADATA exactly as given (e.g. `Demo.Pkg`). */
  name: string;
  version: string;
  /** Requires-Dist lines, e.g. `dep-lib>=1`. */
  requires?: string[];
  requiresPython?: string;
  /** Provides-Extra lines (wheels and PKG-INFO only: setup.cfg gets no extras_require). pip ignores an extra not listed here. */
  providesExtra?: string[];
  /** Files by path inside the distribution; default: `<import_name>/__init__.py`. */
  modules?: Record<string, string>;
  /** More members as bytes, by path inside the distribution; in wheels stored uncompressed (big test files). */
  data?: Record<string, Buffer>;
  /** The `Name:` written to METADATA / PKG-INFO when it must differ from `name` (a broken distribution). */
  metadataName?: string;
  /** METADATA / PKG-INFO as these exact bytes instead of the rendered ones. */
  metadata?: string | Buffer;
  /** Leave METADATA (wheel) or PKG-INFO (sdist) out. */
  omitMetadata?: boolean;
  /** The file name to write instead of the spec's escaped `{name}-{version}...`. */
  fileName?: string;
}

export interface WheelSpec extends DistSpec {
  /** `python-abi-platform`; default `py3-none-any`. */
  tag?: string;
  /** The `.dist-info` directory's `{name}-{version}` instead of the escaped one (old tools kept `.` and case). */
  distInfoName?: string;
}

// Fixed timestamps, so the same spec always gives the same bytes.
const FIXED_DATE = new Date('2020-01-01T00:00:00Z');
const FIXED_MTIME_S = Math.floor(FIXED_DATE.getTime() / 1000);

/** PEP 503: runs of -_. collapse to -, lower case. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** Wheel spec (binary distribution format) and PEP 625: the normalised name with `_` for `-`. */
export function escapeDistributionName(name: string): string {
  return normalizeProjectName(name).replaceAll('-', '_');
}

/** The module a test imports for a project: `Demo.Pkg` -> `demo_pkg`. */
export function importNameOf(name: string): string {
  return escapeDistributionName(name);
}

function modulesOf(spec: DistSpec): Record<string, string> {
  if (spec.modules !== undefined) return spec.modules;
  return { [`${importNameOf(spec.name)}/__init__.py`]: `__version__ = ${JSON.stringify(spec.version)}\n` };
}

/** Core metadata 2.1 (PKG-INFO / METADATA). */
export function renderMetadata(spec: DistSpec): string {
  const lines = ['Metadata-Version: 2.1', `Name: ${spec.metadataName ?? spec.name}`, `Version: ${spec.version}`];
  if (spec.requiresPython !== undefined) lines.push(`Requires-Python: ${spec.requiresPython}`);
  for (const extra of spec.providesExtra ?? []) lines.push(`Provides-Extra: ${extra}`);
  for (const requirement of spec.requires ?? []) lines.push(`Requires-Dist: ${requirement}`);
  return lines.join('\n') + '\n';
}

/** RECORD hash: `sha256=` + urlsafe base64 without padding (wheel spec). */
function recordHash(data: Buffer): string {
  return 'sha256=' + createHash('sha256').update(data).digest('base64url');
}

/** One CSV field as Python's csv module writes it. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function zipToBuffer(zip: ZipFile): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.end();
  });
}

/** Write `{distribution}-{version}-{tag}.whl` into `dir`; returns its path. */
export async function makeWheel(dir: string, spec: WheelSpec): Promise<string> {
  const tag = spec.tag ?? 'py3-none-any';
  const distInfo = `${spec.distInfoName ?? `${escapeDistributionName(spec.name)}-${spec.version}`}.dist-info`;
  const wheelFile = ['Wheel-Version: 1.0', 'Generator: dib-pypi-test-make-dist', 'Root-Is-Purelib: true', `Tag: ${tag}`].join('\n') + '\n';
  const stored = new Set(Object.keys(spec.data ?? {}));
  const files: [string, Buffer][] = [
    ...Object.entries(modulesOf(spec)).map(([path, text]): [string, Buffer] => [path, Buffer.from(text)]),
    ...Object.entries(spec.data ?? {}),
    ...(spec.omitMetadata ? [] : [[`${distInfo}/METADATA`, Buffer.from(spec.metadata ?? renderMetadata(spec))] as [string, Buffer]]),
    [`${distInfo}/WHEEL`, Buffer.from(wheelFile)],
  ];
  const recordPath = `${distInfo}/RECORD`;
  const record = files.map(([path, data]) => `${csvField(path)},${recordHash(data)},${data.length}\n`).join('') + `${recordPath},,\n`;
  files.push([recordPath, Buffer.from(record)]);

  const zip = new ZipFile();
  for (const [path, data] of files) zip.addBuffer(data, path, { mtime: FIXED_DATE, mode: 0o100644, compress: !stored.has(path) });
  const path = join(dir, spec.fileName ?? `${escapeDistributionName(spec.name)}-${spec.version}-${tag}.whl`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, await zipToBuffer(zip));
  return path;
}

export type TarFormat = 'ustar' | 'gnu' | 'pax';

/** One 512-byte tar header: ustar (POSIX.1-1988) magic, or GNU's for `L` long-name headers. */
function tarHeader(name: string, size: number, type: '0' | '5' | 'L' | 'x', magic = 'ustar\0' + '00'): Buffer {
  const header = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) throw new Error(`make-dist: tar member name too long: ${name}`);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, '0') + '\0';
  header.write(name, 0);
  header.write(octal(type === '5' ? 0o755 : 0o644, 8), 100);
  header.write(octal(0, 8), 108); // uid
  header.write(octal(0, 8), 116); // gid
  header.write(octal(size, 12), 124);
  header.write(octal(FIXED_MTIME_S, 12), 136);
  header.write('        ', 148); // checksum field counts as spaces while summing
  header.write(type, 156);
  header.write(magic, 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148);
  return header;
}

function padded(data: Buffer): Buffer[] {
  return [data, Buffer.alloc((512 - (data.length % 512)) % 512)];
}

/** A pax record: `<length> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

/** The header blocks of one member; names past 100 bytes as GNU `././@LongLink` or a pax `path` record. */
function memberHeader(path: string, size: number, type: '0' | '5', format: TarFormat): Buffer[] {
  if (Buffer.byteLength(path) <= 100) return [tarHeader(path, size, type, format === 'gnu' ? 'ustar  \0' : undefined)];
  const short = Buffer.from(path).subarray(0, 100).toString('latin1');
  if (format === 'gnu') {
    const name = Buffer.from(path + '\0');
    return [tarHeader('././@LongLink', name.length, 'L', 'ustar  \0'), ...padded(name), tarHeader(short, size, type, 'ustar  \0')];
  }
  if (format === 'pax') {
    const records = Buffer.from(paxRecord('path', path));
    return [tarHeader(`PaxHeaders/${short.slice(0, 80)}`, records.length, 'x'), ...padded(records), tarHeader(short, size, type)];
  }
  throw new Error(`make-dist: tar member name too long for ustar: ${path}`);
}

/** An uncompressed tar archive of `files` (paths with `/`), parent directories first, two zero blocks at the end. */
export function makeTar(files: [string, Buffer][], format: TarFormat = 'ustar'): Buffer {
  const dirs = new Set<string>();
  for (const [path] of files) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
  }
  const blocks: Buffer[] = [...dirs].sort().flatMap((d) => memberHeader(d, 0, '5', format));
  for (const [path, data] of files) blocks.push(...memberHeader(path, data.length, '0', format), ...padded(data));
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(blocks);
}

/** A gzipped ustar archive of `files` (paths with `/`), parent directories first. */
function tarGz(files: [string, Buffer][]): Buffer {
  return gzipSync(makeTar(files), { level: 9 });
}

/** setup.cfg for setuptools: packages are the directories with `__init__.py`, py_modules the top-level `.py` files. */
function renderSetupCfg(spec: DistSpec, paths: string[]): string {
  const packages = paths.filter((p) => p.endsWith('/__init__.py')).map((p) => p.slice(0, -'/__init__.py'.length).replaceAll('/', '.'));
  const pyModules = paths.filter((p) => !p.includes('/') && p.endsWith('.py')).map((p) => p.slice(0, -3));
  const lines = ['[metadata]', `name = ${spec.name}`, `version = ${spec.version}`, '', '[options]'];
  if (packages.length > 0) lines.push('packages =', ...packages.sort().map((p) => `    ${p}`));
  if (pyModules.length > 0) lines.push('py_modules =', ...pyModules.sort().map((m) => `    ${m}`));
  if (spec.requiresPython !== undefined) lines.push(`python_requires = ${spec.requiresPython}`);
  if (spec.requires?.length) lines.push('install_requires =', ...spec.requires.map((r) => `    ${r}`));
  return lines.join('\n') + '\n';
}

/** Write `{distribution}-{version}.tar.gz` (setuptools backend) into `dir`; returns its path. */
export function makeSdist(dir: string, spec: DistSpec): string {
  const base = `${escapeDistributionName(spec.name)}-${spec.version}`;
  const modules = modulesOf(spec);
  const pyproject = '[build-system]\nrequires = ["setuptools>=40.8.0", "wheel"]\nbuild-backend = "setuptools.build_meta"\n';
  const entries: [string, string | Buffer][] = [
    ...(spec.omitMetadata ? [] : [['PKG-INFO', spec.metadata ?? renderMetadata(spec)] as [string, string | Buffer]]),
    ['pyproject.toml', pyproject],
    ['setup.cfg', renderSetupCfg(spec, Object.keys(modules))],
    ...Object.entries(modules),
    ...Object.entries(spec.data ?? {}),
  ];
  const path = join(dir, spec.fileName ?? `${base}.tar.gz`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, tarGz(entries.map(([name, text]) => [`${base}/${name}`, Buffer.from(text)])));
  return path;
}

/** The project name in a wheel or sdist file name, or undefined for other files. */
export function projectOfFile(file: string): string | undefined {
  if (file.endsWith('.whl')) return file.split('-')[0];
  const stem = file.endsWith('.tar.gz') ? file.slice(0, -'.tar.gz'.length) : file.endsWith('.zip') ? file.slice(0, -'.zip'.length) : undefined;
  if (stem === undefined || !stem.includes('-')) return undefined;
  return stem.slice(0, stem.lastIndexOf('-'));
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function page(title: string, links: string[]): string {
  return `<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.0"><title>${escapeHtml(title)}</title></head>\n  <body>\n${links.map((l) => `    ${l}<br>\n`).join('')}  </body>\n</html>\n`;
}

/** PEP 503 static index over the distribution files directly in `dir`: `index.html` and `<project>/index.html`. */
export function writeSimpleIndex(dir: string): string[] {
  const byProject = new Map<string, string[]>();
  for (const file of readdirSync(dir).sort()) {
    const project = projectOfFile(file);
    if (project === undefined) continue;
    const normalized = normalizeProjectName(project);
    byProject.set(normalized, [...(byProject.get(normalized) ?? []), file]);
  }
  const projects = [...byProject.keys()].sort();
  for (const project of projects) {
    const links = (byProject.get(project) ?? []).map((file) => {
      const sha256 = createHash('sha256')
        .update(readFileSync(join(dir, file)))
        .digest('hex');
      return `<a href="../${encodeURIComponent(file)}#sha256=${sha256}">${escapeHtml(file)}</a>`;
    });
    mkdirSync(join(dir, project), { recursive: true });
    writeFileSync(join(dir, project, 'index.html'), page(`Links for ${project}`, links));
  }
  writeFileSync(
    join(dir, 'index.html'),
    page(
      'Simple index',
      projects.map((p) => `<a href="${p}/">${p}</a>`),
    ),
  );
  return projects;
}
