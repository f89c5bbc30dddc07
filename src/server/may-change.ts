// Who may remove or yank a project's files over HTTP: the one place that decides. Without an ACL every
// user allowed to upload may; with one (--acl), the users who may upload to that project: its owners and
// those the ACL grants (never through the right to create a project, which a change does not do).
import type { UploadRights } from './upload-rights.js';

export type ChangeDecision = { allowed: true } | { allowed: false; reason: string };

/** Whether `user`, already authenticated for the upload API, may remove or yank files of `project` (normalised). */
export type MayChange = (user: string, project: string) => ChangeDecision;

export function changeRights(rights: Pick<UploadRights, 'mayChange'> | undefined): MayChange {
  return (user, project) => {
    if (user === '' || project === '') return { allowed: false, reason: `user ${JSON.stringify(user)} may not change project ${project}` };
    if (rights === undefined) return { allowed: true };
    const decision = rights.mayChange(user, project);
    if (!decision.allowed) return decision;
    if (decision.via === 'create')
      return { allowed: false, reason: `user ${JSON.stringify(user)} may not change ${project}: it is not theirs nor granted by the ACL` };
    return { allowed: true };
  };
}
