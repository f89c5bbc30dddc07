// Which uploaded files are the same file: equal normalised project name, PEP 440 version and the rest of the name (pure).
import { explain } from '@renovatebot/pep440';
import { sdistStem } from '../../pypi/dist-filename.js';
import type { DistFilename } from '../../pypi/types.js';

/**
 * PEP 440's canonical form, as packaging's `canonicalize_version`: `01.0` and `1` are the same
 * version (trailing zeros of the release dropped, leading zeros gone with the numbers), the local
 * part lower-cased with `-_` read as `.`. A version PEP 440 cannot parse stays as written, lower-cased.
 */
export function canonicalVersion(version: string): string {
  const parts = explain(version);
  if (parts === null) return version.toLowerCase();
  const release = [...parts.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  let text = parts.epoch !== 0 ? `${parts.epoch}!` : '';
  text += release.join('.');
  if (parts.pre !== null && parts.pre !== undefined) text += `${parts.pre[0]}${parts.pre[1]}`;
  if (parts.post !== null && parts.post !== undefined) text += `.post${parts.post}`;
  if (parts.dev !== null && parts.dev !== undefined) text += `.dev${parts.dev}`;
  if (parts.local !== null && parts.local !== undefined) text += `+${parts.local.toLowerCase().replace(/[-_]/g, '.')}`;
  return text;
}

/** A compressed wheel tag set (`py2.py3`) as packaging reads it: lower case, a set (order does not count). */
function tagSet(tag: string | undefined): string {
  return [...new Set((tag ?? '').toLowerCase().split('.'))].sort().join('.');
}

/** Wheel build tags compare as (number, rest): `01` is `1`. */
function buildKey(build: string | undefined): string {
  if (build === undefined) return '';
  const match = /^(\d+)(.*)$/.exec(build);
  return match === null ? build : `${Number(match[1])}${match[2]}`;
}

/**
 * The identity of a distribution file: two names with one identity are one file for the index
 * (pip would see two links to the same project, version and tags), so an upload of one when the
 * other exists conflicts. `NewPkg-1.0-py3-none-any.whl` and `newpkg-01.0-py3-none-any.whl` are one.
 */
export function fileIdentity(filename: string, parsed: DistFilename): string {
  const version = canonicalVersion(parsed.version);
  if (parsed.kind === 'wheel')
    return ['wheel', parsed.normalized, version, buildKey(parsed.build), tagSet(parsed.pythonTag), tagSet(parsed.abiTag), tagSet(parsed.platformTag)].join(' ');
  const stem = sdistStem(filename) ?? filename;
  return ['sdist', parsed.normalized, version, filename.slice(stem.length).toLowerCase()].join(' ');
}
