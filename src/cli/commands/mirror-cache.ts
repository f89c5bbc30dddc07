// `dib-pypi mirror cache DIR`: what the pull-through cache holds, and making its kept pages stale (run by ../mirror-cache-command.ts).
import { defineCommand, type OptionsOf } from './declare.js';

export const mirrorCache = defineCommand({
  name: 'mirror cache',
  summary: 'what a pull-through cache (serve --upstream) holds; make kept upstream pages stale so they are fetched again',
  usage: 'dib-pypi mirror cache DIR [--invalidate PROJECT]... [--json]',
  options: {
    invalidate: {
      type: 'string',
      multiple: true,
      help: `  --invalidate PROJECT  make the kept upstream page of PROJECT stale: the next request
                     fetches it from upstream in full (a running serve notices within a
                     second); repeat for more projects`,
    },
    json: { type: 'boolean', help: '  --json             print the figures as JSON' },
  },
  notes: `Counts the files the cache downloaded (their receipts in DIR/.dib-pypi/upstream/<project>/fetched/,
the files --cache-max-size may evict; uploads and synced files are not among them) and the projects
whose upstream page is kept, with the oldest and newest fetch. Reads only, unless --invalidate.
Exit 1 when a project to invalidate has no kept page (the others are still invalidated).`,
  positionals: { names: 'DIR', min: 1, max: 1 },
  normalize: (values, positionals) => ({ positionals, invalidate: values.invalidate ?? [], json: values.json === true }),
});

export type MirrorCacheOptions = OptionsOf<typeof mirrorCache>;
