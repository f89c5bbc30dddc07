// `dib-pypi mirror export LOCKFILE OUTDIR`: its flags, help and options (run by ../mirror-export-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { JSON_OPTION } from './shared-options.js';

export const mirrorExport = defineCommand({
  name: 'mirror export',
  summary: 'make a new, minimal, indexed mirror holding exactly the files a lock pins (checked by sha256; same lock, same bytes)',
  usage: 'dib-pypi mirror export LOCKFILE OUTDIR [--from MIRROR] [--copy] [--json]',
  arguments: `  LOCKFILE           a lock in pip's --require-hashes format (as mirror add writes)
  OUTDIR             the new mirror: must not exist, or be an empty directory`,
  options: {
    from: {
      type: 'string',
      help: `  --from MIRROR      the indexed mirror to take the files from (default:
                     $DIB_IMAGE_CACHE/pypi/mirror, as the DIB element)`,
    },
    copy: {
      type: 'boolean',
      help: `  --copy             copy every file (a reflink where the file system can) instead
                     of hard-linking it: nothing shared with MIRROR, and the tree
                     (.dib-pypi/ included) depends only on the lock and the bytes`,
    },
    ...JSON_OPTION,
  },
  notes: `Every --hash=sha256: of every pin is looked up in MIRROR's index; the file of that
project with that hash goes to OUTDIR/<project>/<file> (all of a pin's hashes: the
wheels of every platform and the sdist the lock lists), with its .yanked and
.upload-time sidecars, and its bytes are hashed again where they now are. Then OUTDIR
is indexed (as dib-pypi mirror index): pip install --require-hashes
--index-url file://OUTDIR -r LOCKFILE works offline, and dib-pypi mirror verify OUTDIR
passes. The export is built in a hidden sibling directory renamed to OUTDIR at the end:
on failure nothing is left at OUTDIR.

Files are hard-linked from MIRROR when both are on the same file system (no bytes
copied; a link shares its inode, mode and mtime with MIRROR's file: never modify an
export's files in place), else copied (a reflink where the file system can). Every
directory and copied file gets the mtime 1980-01-01, so the same lock over the same
files gives the same tree, byte for byte; with hard links the index's own record
(.dib-pypi/manifest.d/) holds the linked files' mtimes, which are MIRROR's: --copy
makes that part independent of MIRROR too.

Exit codes: 0 ok; 1 a locked hash is not in MIRROR (missing: PIN (sha256 ...)) or a
file's bytes differ from its hash (mismatch: PATH (...)), each named on its own line;
2 bad usage, an unreadable lock, an unindexed MIRROR or an OUTDIR that is not empty.`,
  positionals: { names: 'LOCKFILE OUTDIR', min: 2, max: 2 },
  normalize: (values, positionals) => ({ positionals, from: values.from, copy: values.copy, json: values.json }),
});

export type MirrorExportOptions = OptionsOf<typeof mirrorExport>;
