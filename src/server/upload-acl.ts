// Who may change a project (upload to it; remove or yank in it): the one rule, pure. The ACL grants;
// an owner may always; a new project the ACL does not name goes to the first uploader allowed to create it.
import { normalizeProjectName } from '../pypi/project-name.js';
import type { AclRule, UploadAcl } from './acl-file.js';

/**
 * Whether the normalised `name` matches `pattern` (`*`: any run, none too). Greedy with one step of
 * backtracking to the last star: time linear in the product of the lengths at worst, never
 * exponential as a regular expression of many `.*` can be.
 */
export function matchesPattern(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** What the mirror knows of a project: its recorded owners, and whether it holds files already. */
export interface ProjectState {
  owners: readonly string[];
  /** Asked only when the answer matters (it may list directories). */
  hasFiles: () => boolean;
}

export type Decision =
  /** `claims`: this upload makes `user` the project's owner (record it before the file is placed). */
  { allowed: true; via: 'owner' | 'acl' | 'create'; claims: boolean } | { allowed: false; reason: string };

function matching(rules: readonly AclRule[], project: string): AclRule[] {
  return rules.filter((rule) => matchesPattern(rule.pattern, project));
}

/** A name as a message shows it: bare when plain, quoted (JSON) when it holds anything else. */
export function shownName(name: string): string {
  return /^[\w.@+-]+$/.test(name) ? name : JSON.stringify(name);
}

/** Whether the ACL names `project`: a rule of [upload] other than a bare `*` matches it (then nobody becomes its owner). */
export function isNamedByAcl(acl: UploadAcl, project: string): boolean {
  return matching(acl.upload, normalizeProjectName(project)).some((rule) => rule.pattern !== '*');
}

/**
 * May `user` (authenticated) change `project`? In order: an owner may; a user the ACL's [upload]
 * grants may; a project with owners is theirs; a project the ACL names, or that holds files but has no
 * owner (synced, added, or uploaded before the ACL), is the ACL's alone; a new project may be created
 * by a user [create] grants, who becomes its owner. A granted user who may also create claims a new,
 * unnamed project as well, as its first uploader.
 */
export function decide(acl: UploadAcl, user: string, project: string, state: ProjectState): Decision {
  const name = normalizeProjectName(project);
  if (state.owners.includes(user)) return { allowed: true, via: 'owner', claims: false };
  const grants = matching(acl.upload, name);
  const isNamed = grants.some((rule) => rule.pattern !== '*');
  const mayCreate = matching(acl.create, name).some((rule) => rule.users.has(user));
  const isNew = () => state.owners.length === 0 && !state.hasFiles();
  if (grants.some((rule) => rule.users.has(user))) return { allowed: true, via: 'acl', claims: !isNamed && mayCreate && isNew() };
  const refused = (why: string, verb = 'upload to'): Decision => ({ allowed: false, reason: `user ${shownName(user)} may not ${verb} ${name}: ${why}` });
  if (state.owners.length > 0) return refused(`owned by ${state.owners.map(shownName).join(', ')}`);
  if (isNamed) return refused('not granted by the ACL');
  if (state.hasFiles()) return refused('not granted by the ACL (the project has files and no owner)');
  if (mayCreate) return { allowed: true, via: 'create', claims: true };
  return refused('not granted by the ACL (no [create] line lets this user create it)', 'create');
}
