// Which manifest shards an index run loads: those of the directories it must list, closed over the
// projects whose records they hold (a project's page needs all its files, wherever they lie).
import { mergeShard, readShard, shardOf, SHARD_COUNT, type Manifest, type ManifestHead, type Shard } from '../store/manifest.js';
import { appendAll } from '../../append-all.js';

export class UnreadableShardError extends Error {}

export class ShardSet {
  readonly loaded = new Set<number>();
  readonly #dir: string;
  readonly #head: ManifestHead;
  readonly #manifest: Manifest;

  /** A full run reads what it can and takes an unreadable shard as empty (it trusts nothing anyway). */
  readonly #isTolerant: boolean;

  constructor(dir: string, head: ManifestHead, manifest: Manifest, isTolerant = false) {
    this.#isTolerant = isTolerant;
    this.#dir = dir;
    this.#head = head;
    this.#manifest = manifest;
  }

  has(rel: string): boolean {
    return this.loaded.has(shardOf(rel));
  }

  all(): number[] {
    return Array.from({ length: SHARD_COUNT }, (_, id) => id);
  }

  /** Load shard `id` (and what it leads to). */
  ensureId(id: number): Set<number> {
    return this.#load([id]);
  }

  /**
   * Load the shards of `dirs` and of `projects` (their page records and the directories holding their
   * files), and, for every project a newly loaded shard mentions, its shards too, until nothing new is
   * needed. Returns the shards loaded by this call.
   */
  ensure(dirs: Iterable<string>, projects: Iterable<string> = []): Set<number> {
    const ids: number[] = [];
    for (const rel of dirs) ids.push(shardOf(rel));
    for (const project of projects) appendAll(ids, this.#shardsOfProject(project));
    return this.#load(ids);
  }

  #shardsOfProject(project: string): number[] {
    return [shardOf(project), ...(this.#head.strays[project] ?? []).map(shardOf)];
  }

  #load(ids: number[]): Set<number> {
    const added = new Set<number>();
    const queue: number[] = [];
    const want = (id: number) => {
      if (this.loaded.has(id) || queue.includes(id)) return;
      queue.push(id);
    };
    const wantProject = (project: string) => {
      for (const id of this.#shardsOfProject(project)) want(id);
    };
    for (const id of ids) want(id);
    while (queue.length > 0) {
      const id = queue.shift() as number;
      let shard: Shard | undefined = readShard(this.#dir, id);
      if (shard === undefined && !this.#isTolerant) throw new UnreadableShardError(`manifest shard ${id} is unreadable`);
      shard ??= { files: {}, sidecars: {}, pages: {} };
      mergeShard(this.#manifest, shard);
      this.loaded.add(id);
      added.add(id);
      for (const record of Object.values(shard.files)) if (record.project !== undefined) wantProject(record.project);
      for (const project of Object.keys(shard.pages)) wantProject(project);
    }
    return added;
  }
}
