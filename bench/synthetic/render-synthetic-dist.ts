// The bytes of one synthetic distribution file: a valid wheel (METADATA, WHEEL, RECORD with
// real hashes) or a valid PEP 625 sdist with PKG-INFO, carrying its share of noise as a data file.
import { createHash } from 'node:crypto';
import { renderTarGz, renderZip, type ArchiveEntry } from './archive-bytes.js';
import type { SyntheticFile } from './plan-synthetic-mirror.js';

/** Wheel spec: a compressed tag set `py2.py3-none-any` stands for every combination. */
function expandTags(tag: string): string[] {
  const [pythons = '', abis = '', platforms = ''] = tag.split('-');
  return pythons.split('.').flatMap((p) => abis.split('.').flatMap((a) => platforms.split('.').map((pl) => `${p}-${a}-${pl}`)));
}

/** RECORD hash: `sha256=` + urlsafe base64 without padding (wheel spec). */
function recordHash(data: Buffer): string {
  return 'sha256=' + createHash('sha256').update(data).digest('base64url');
}

function text(name: string, content: string): ArchiveEntry {
  return { name, data: Buffer.from(content), isCompressed: true };
}

function payloadOf(file: SyntheticFile, pool: Buffer, importName: string): ArchiveEntry[] {
  if (file.noiseBytes === 0) return [];
  return [{ name: `${importName}/_payload.bin`, data: pool.subarray(file.noiseOffset, file.noiseOffset + file.noiseBytes), isCompressed: false }];
}

function renderWheel(file: SyntheticFile, pool: Buffer, escaped: string): Buffer {
  const distInfo = `${escaped}-${file.version}.dist-info`;
  const isPure = file.tag?.endsWith('-none-any') ?? true;
  const wheel = [
    'Wheel-Version: 1.0',
    'Generator: dib-pypi-synthetic',
    `Root-Is-Purelib: ${isPure}`,
    ...expandTags(file.tag ?? 'py3-none-any').map((t) => `Tag: ${t}`),
  ];
  const entries: ArchiveEntry[] = [
    text(`${escaped}/__init__.py`, `__version__ = ${JSON.stringify(file.version)}\n`),
    ...payloadOf(file, pool, escaped),
    text(`${distInfo}/METADATA`, file.metadata),
    text(`${distInfo}/WHEEL`, wheel.join('\n') + '\n'),
  ];
  const recordPath = `${distInfo}/RECORD`;
  const record = entries.map((e) => `${e.name},${recordHash(e.data)},${e.data.length}\n`).join('') + `${recordPath},,\n`;
  entries.push(text(recordPath, record));
  return renderZip(entries);
}

function renderSdist(file: SyntheticFile, pool: Buffer, escaped: string): Buffer {
  const setupCfg = `[metadata]\nname = ${file.displayName}\nversion = ${file.version}\n\n[options]\npackages = ${escaped}\n`;
  const pyproject = '[build-system]\nrequires = ["setuptools>=40.8.0"]\nbuild-backend = "setuptools.build_meta"\n';
  return renderTarGz(`${escaped}-${file.version}`, [
    text('PKG-INFO', file.metadata),
    text('pyproject.toml', pyproject),
    text('setup.cfg', setupCfg),
    text(`${escaped}/__init__.py`, `__version__ = ${JSON.stringify(file.version)}\n`),
    ...payloadOf(file, pool, escaped),
  ]);
}

/** The file's bytes; `pool` is the shared noise its payload is sliced from. */
export function renderSyntheticDist(file: SyntheticFile, pool: Buffer): Buffer {
  const escaped = file.filename.slice(0, file.filename.indexOf('-'));
  return file.kind === 'wheel' ? renderWheel(file, pool, escaped) : renderSdist(file, pool, escaped);
}
