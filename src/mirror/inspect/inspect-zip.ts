// Wheels and `.zip` sdists: hashed in one read, their METADATA or PKG-INFO read from the zip (in memory, or by position when large).
import { createHash } from 'node:crypto';
import type yauzl from 'yauzl';
import { parseCoreMetadata } from '../../pypi/core-metadata.js';
import type { DistFilename, InspectedDistribution } from '../../pypi/types.js';
import { broken, firstLine, hashFile, MAX_METADATA_BYTES, type HashedFile, type OpenFile } from './read-distribution.js';
import { isTopPkgInfo, sdistCore } from './sdist-metadata.js';
import { checkWheelCore, findWheelMetadata, wheelMetadataEntry } from './wheel-metadata.js';
import { findMember, openZip, readSmallMember, ZipMemberError, type ZipSource } from './zip-members.js';

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

export async function inspectWheel(file: OpenFile, filename: DistFilename): Promise<InspectedDistribution> {
  const hashed = await hashFile(file);
  const find =
    file.options.strict === true
      ? (zip: yauzl.ZipFile) =>
          pickAfterAll(
            zip,
            (name) => name.endsWith('.dist-info/METADATA'),
            (kept) => wheelMetadataEntry(kept, filename),
          )
      : (zip: yauzl.ZipFile) => findWheelMetadata(zip, filename);
  const metadata = await readZipMember(file, hashed, find);
  if (metadata === undefined) throw broken(file.path, `no ${filename.name}-${filename.version}.dist-info/METADATA in the wheel`);
  const core = parseCoreMetadata(metadata, file.path);
  checkWheelCore(core, filename, file.path);
  const metadataSha256 = createHash('sha256').update(metadata).digest('hex');
  return { filename, size: hashed.size, sha256: hashed.sha256, metadata, metadataSha256, core };
}

export async function inspectZipSdist(file: OpenFile, filename: DistFilename): Promise<InspectedDistribution> {
  const hashed = await hashFile(file);
  const strict = file.options.strict === true;
  const find = strict ? (zip: yauzl.ZipFile) => pickAfterAll(zip, isTopPkgInfo, (kept) => kept[0]) : (zip: yauzl.ZipFile) => findMember(zip, isTopPkgInfo);
  const pkgInfo = await readZipMember(file, hashed, find);
  return { filename, size: hashed.size, sha256: hashed.sha256, ...sdistCore(pkgInfo, file.path, strict) };
}
