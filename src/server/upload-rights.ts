// The upload ACL at work in a serving process: the rule of upload-acl.ts over the mirror's owners
// (read at start, recorded through the store) and what the mirror holds. Uploads, and any other
// request that changes a project, ask `mayChange`.
import { projectHasFiles, readOwners, writeOwners } from '../mirror/store/owners.js';
import { normalizeProjectName } from '../pypi/project-name.js';
import type { UploadAcl } from './acl-file.js';
import { type Decision, decide } from './upload-acl.js';

export class UploadRights {
  readonly #dir: string;
  readonly #acl: UploadAcl;
  readonly #owners: Map<string, string[]>;
  readonly #trustedUids: ReadonlySet<number>;

  /** Reads the owners file: throws StateError when it is untrusted (see readOwners) or malformed. */
  constructor(dir: string, acl: UploadAcl, trustedUids: ReadonlySet<number>) {
    this.#dir = dir;
    this.#acl = acl;
    this.#trustedUids = trustedUids;
    this.#owners = readOwners(dir, trustedUids);
  }

  /** May `user` (authenticated) change `project` now? */
  mayChange(user: string, project: string): Decision {
    const name = normalizeProjectName(project);
    const owners = this.#owners.get(name) ?? [];
    return decide(this.#acl, user, name, { owners, hasFiles: () => projectHasFiles(this.#dir, name) });
  }

  /**
   * Decide again and, when this upload makes `user` the owner of a new project, record it durably
   * before the file is placed (synchronously: two first uploads cannot both claim). Returns the decision.
   */
  claim(user: string, project: string): Decision {
    const decision = this.mayChange(user, project);
    if (decision.allowed && decision.claims) {
      const name = normalizeProjectName(project);
      const next = new Map(this.#owners);
      next.set(name, [user]);
      writeOwners(this.#dir, next, this.#trustedUids);
      this.#owners.set(name, [user]);
    }
    return decision;
  }

  /** The owners of `project` (normalised), for messages and tests. */
  ownersOf(project: string): readonly string[] {
    return this.#owners.get(normalizeProjectName(project)) ?? [];
  }
}
