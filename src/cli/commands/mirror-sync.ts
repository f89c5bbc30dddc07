// `dib-pypi mirror sync DIR --upstream URL`: its flags, help and options (run by ../mirror-sync-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';
import { PROGRESS_NOTES, PROGRESS_OPTIONS_WIDE, progressFlags } from './shared-options.js';

export const mirrorSync = defineCommand({
  name: 'mirror sync',
  summary: 'download selected projects from an upstream simple index into a mirror (verified, parallel, incremental), then re-index',
  usage: 'dib-pypi mirror sync DIR --upstream URL [--project NAME]... [filters] [options]',
  arguments: '  DIR                      the mirror directory (created when missing)',
  options: {
    upstream: {
      type: 'string',
      help: `  --upstream URL           the upstream simple index (PEP 503 HTML or PEP 691 JSON),
                           e.g. https://user:token@host/simple/ (credentials are
                           sent to that host only and never printed)`,
    },
    project: {
      type: 'string',
      multiple: true,
      help: `  --project NAME           sync only this project (repeatable); default: every
                           project on the upstream's root page`,
    },
    requirements: {
      type: 'string',
      short: 'r',
      multiple: true,
      help: `  -r, --requirements FILE  sync the projects named in a requirements file (names
                           only: versions, extras and markers are not filters)`,
    },
    'python-version': {
      type: 'string',
      multiple: true,
      help: `  --python-version V       keep files for this Python (3.11; repeatable): wheels
                           whose python tag fits (py3, cp311, cp38-abi3, ...) and
                           files whose requires-python admits V`,
    },
    platform: {
      type: 'string',
      multiple: true,
      help: `  --platform TAG           keep wheels for this platform (repeatable), e.g.
                           manylinux_2_17_x86_64 (older manylinux/musllinux/macOS
                           of the same arch fit too); pure wheels and sdists stay`,
    },
    'package-type': { type: 'string', multiple: true, help: '  --package-type T         wheel or sdist (repeatable)' },
    extension: { type: 'string', multiple: true, help: '  --extension EXT          keep files with this extension: .whl, .tar.gz (repeatable)' },
    latest: {
      type: 'string',
      help: `  --latest N               keep the files of the newest N releases per project (PEP
                           440 order; yanked-only releases do not count)`,
    },
    pre: { type: 'boolean', help: '  --pre                    with --latest: count pre-releases and dev releases too' },
    exclude: {
      type: 'string',
      multiple: true,
      help: `  --exclude PATTERN        leave out projects or files whose (normalised) name
                           matches this glob (* and ?; repeatable)`,
    },
    'max-file-size': { type: 'string', help: '  --max-file-size SIZE     leave out files larger than SIZE (500000, 10M, 1.5GB)' },
    jobs: { type: 'string', short: 'j', help: '  -j, --jobs N             parallel requests (default 8)' },
    delete: {
      type: 'boolean',
      help: `  --delete                 delete what upstream no longer lists or the filters now
                           exclude: files of the synced projects and, when syncing
                           every project (no --project/-r), whole projects gone
                           from the root page (files, sidecars, .metadata, pages,
                           the directory). Without --delete nothing is deleted`,
    },
    timeout: { type: 'string', help: '  --timeout SECONDS        a request with no progress for this long fails (default 30)' },
    retries: {
      type: 'string',
      help: `  --retries N              retries of a failed request, with backoff, on connection
                           errors, timeouts and HTTP 5xx/429 (default 4)`,
    },
    config: {
      type: 'string',
      help: `  --config FILE            read these options from FILE: TOML (.toml) or INI (.ini,
                           .cfg, .conf), at the top level or in a [sync] section,
                           with the flags' names; flags beat the file`,
    },
    'dry-run': { type: 'boolean', help: '  --dry-run                print what would be downloaded and its size; write nothing' },
    json: { type: 'boolean', help: '  --json                   print the summary as JSON' },
    ...PROGRESS_OPTIONS_WIDE,
  },
  notes: `Every file is streamed to a hidden temp file beside its final name, hashed while it
streams, and renamed into DIR/<project>/ only when its hash (sha256, or upstream's other
sha-2) matches the upstream page; otherwise it is removed and the file counts as failed.
Yanked files get a <file>.yanked sidecar, upload times a <file>.upload-time sidecar. A
file already in the mirror with other bytes is never overwritten (failed). The run ends
with an incremental re-index (as dib-pypi mirror index), so DIR is a valid mirror.

A second run asks for each project page with its ETag / Last-Modified (kept in
DIR/.dib-pypi/sync-state.json) and skips the projects that did not change; a killed
run resumes: finished files stay, temp files are removed, the rest is fetched again.
Files are made durable together (DIR/.dib-pypi/sync-journal lists those not yet on
disk; one syncfs at the end): after a power loss, the next run re-hashes the files the
journal lists and fetches again any whose bytes were lost.

Exit codes: 0 ok; 1 any file or project failed (after doing all the rest: the summary
lists them) or the upstream cannot be reached; 2 bad flags or config.

${PROGRESS_NOTES}`,
  positionals: { names: 'DIR', min: 1, max: 1 },
  normalize: (values, positionals) => ({
    ...progressFlags(values),
    positionals,
    config: values.config,
    dryRun: values['dry-run'],
    json: values.json,
    /** The filter and transfer flags by name, as a --config file sets them (flags beat the file). */
    syncFlags: {
      upstream: values.upstream,
      project: values.project,
      requirements: values.requirements,
      'python-version': values['python-version'],
      platform: values.platform,
      'package-type': values['package-type'],
      extension: values.extension,
      latest: values.latest,
      pre: values.pre,
      exclude: values.exclude,
      'max-file-size': values['max-file-size'],
      jobs: values.jobs,
      delete: values.delete,
      timeout: values.timeout,
      retries: values.retries,
    },
  }),
});

export type MirrorSyncOptions = OptionsOf<typeof mirrorSync>;
