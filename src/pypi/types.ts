// The packaging specs' shapes the whole project shares: a distribution file name, core metadata, one inspected file.

/** A distribution file name, parsed (wheel per the wheel spec, sdist per PEP 625 / legacy). */
export interface DistFilename {
  kind: 'wheel' | 'sdist';
  /** The name as spelled in the file name. */
  name: string;
  /** PEP 503-normalised project name. */
  normalized: string;
  version: string;
  /** Wheels only: build tag, and the `python-abi-platform` tag triple. */
  build?: string;
  pythonTag?: string;
  abiTag?: string;
  platformTag?: string;
}

/** The fields of core metadata (METADATA / PKG-INFO) the mirror uses. */
export interface CoreMetadata {
  metadataVersion?: string;
  name: string;
  version: string;
  requiresPython?: string;
  requiresDist: string[];
  providesExtra: string[];
}

/** One distribution file, inspected: hashed while read once, its metadata extracted. */
export interface InspectedDistribution {
  filename: DistFilename;
  size: number;
  sha256: string;
  /** Wheels: the exact bytes of `<name>-<version>.dist-info/METADATA` (PEP 658 serves them as is). */
  metadata?: Buffer;
  metadataSha256?: string;
  /** Parsed from the wheel's METADATA or the sdist's PKG-INFO, when there is one. */
  core?: CoreMetadata;
}
