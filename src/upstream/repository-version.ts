// PEP 629: a page's repository/api version; a major version above 1 is a format we cannot read.
import { MalformedPageError } from './simple-model.js';

/** Throws MalformedPageError unless `version` is `1.x` (PEP 629: fail on a greater major, warn-free on a greater minor). */
export function checkRepositoryVersion(version: string, pageUrl: string): void {
  const match = /^(\d+)\.(\d+)$/.exec(version.trim());
  if (!match) throw new MalformedPageError(pageUrl, `bad api-version ${JSON.stringify(version)}`);
  if (match[1] !== '1') throw new MalformedPageError(pageUrl, `api-version ${version} is not supported (only 1.x)`);
}
