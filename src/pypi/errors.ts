// The mirror's error classes: a distribution file that cannot be indexed, with where and why.
import { DibPypiError } from '../errors.js';

/**
 * A distribution file that is damaged or inconsistent: truncated, not an archive, no METADATA,
 * METADATA naming another project. The indexer reports it and skips the file (exit 1).
 */
export class BrokenDistributionError extends DibPypiError {
  /** The distribution file (or the metadata's source) as the caller named it. */
  readonly path: string;
  /** The one-line reason, without the path. */
  readonly reason: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`broken distribution ${path}: ${reason}`, options);
    this.path = path;
    this.reason = reason;
  }
}
