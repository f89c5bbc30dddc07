// What a legacy upload (twine's `file_upload` form) must satisfy before anything is kept (pure).
import { eq, valid } from '@renovatebot/pep440';
import { parseDistFilename } from '../pypi/dist-filename.js';
import { normalizeProjectName, isValidProjectName } from '../pypi/project-name.js';
import type { DistFilename } from '../pypi/types.js';
import { isSafeFilename } from '../upstream/simple-model.js';

export interface UploadForm {
  fields: Map<string, string>;
  /** The `content` part's file name as the client sent it. */
  filename?: string;
  /** Digests of the bytes received. */
  /** Digests of the bytes received; BLAKE2b-256 only when the form has a blake2_256_digest to check. */
  received?: { md5: string; sha256: string; blake2b256?: string; size: number };
}

export type UploadCheck = { ok: true; project: string; filename: string; parsed: DistFilename } | { ok: false; status: number; message: string };

const fail = (status: number, message: string): UploadCheck => ({ ok: false, status, message });

function sameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  return valid(a) !== null && valid(b) !== null && eq(a, b);
}

/** Check the form fields against the file (name, version, digests). */
export function checkUpload(form: UploadForm): UploadCheck {
  const action = form.fields.get(':action');
  if (action !== 'file_upload') return fail(400, `unsupported :action ${JSON.stringify(action ?? '')} (only file_upload)`);
  const name = form.fields.get('name') ?? '';
  if (!isValidProjectName(name)) return fail(400, `invalid project name ${JSON.stringify(name)}`);
  const version = form.fields.get('version') ?? '';
  if (version === '') return fail(400, 'missing version');
  const filename = form.filename;
  if (filename === undefined || form.received === undefined) return fail(400, 'no file in the form field "content"');
  // Printable ASCII only: file names are URLs on the pages, and names that differ only in Unicode would be two files to us and one to a user.
  if (!/^[\x21-\x7e]+$/.test(filename)) return fail(400, `invalid file name ${JSON.stringify(filename)}: printable ASCII only`);
  if (!isSafeFilename(filename)) return fail(400, `invalid file name ${JSON.stringify(filename)}: a bare name, no path`);
  const parsed = parseDistFilename(filename);
  if (parsed === undefined) return fail(400, `${JSON.stringify(filename)} is not a distribution file name (wheel or sdist)`);
  // PEP 527: an upload's sdist is a .tar.gz or a .zip (the formats inspected for their PKG-INFO).
  if (parsed.kind === 'sdist' && !filename.endsWith('.tar.gz') && !filename.endsWith('.zip'))
    return fail(400, `${filename}: an sdist must be a .tar.gz or .zip (PEP 527)`);
  const project = normalizeProjectName(name);
  if (parsed.normalized !== project) return fail(400, `${filename} is not a file of project ${name}`);
  if (!sameVersion(parsed.version, version)) return fail(400, `${filename} is not version ${version} of ${name}`);
  const digests: [field: string, actual: string | undefined][] = [
    ['md5_digest', form.received.md5],
    ['sha256_digest', form.received.sha256],
    ['blake2_256_digest', form.received.blake2b256],
  ];
  for (const [field, actual] of digests) {
    const sent = form.fields.get(field);
    if (sent === undefined || sent === '') continue;
    if (sent.toLowerCase() !== actual) return fail(400, `${field} does not match the uploaded bytes of ${filename}`);
  }
  if (form.received.size === 0) return fail(400, `${filename} is empty`);
  return { ok: true, project, filename, parsed };
}
