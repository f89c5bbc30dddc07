// Who may remove or yank a project's files over HTTP: the one place that decides, so a per-project ACL plugs in here.

/**
 * Whether `user`, already authenticated for the upload API, may remove or yank files of `project`
 * (normalised). Today every user allowed to upload may.
 */
export function mayChange(user: string, project: string): boolean {
  return user !== '' && project !== '';
}
