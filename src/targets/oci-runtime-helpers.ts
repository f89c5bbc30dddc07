// Where Ctrl-C must go to cancel a podman build cleanly: to the engine's runtime helper, not to podman.
//
// podman 4.3 builds with buildah 1.28's library. Each RUN is run by a helper, the engine's own binary
// re-executed as `buildah-oci-runtime` (or `buildah-chroot-runtime` with chroot isolation), a child of
// the engine. On SIGINT/SIGTERM/SIGHUP the helper kills the RUN's container (`runc kill ... SIGKILL`)
// and exits 1; the RUN fails and the build removes its working containers and bundle as after any
// failed RUN. buildah's own CLI passes the signal on to the helper itself. podman's does not: its
// shutdown handler ("Received shutdown signal ..., terminating!") exits 1 at once, and the RUN's
// processes keep running, its runc container, its bundle in /var/tmp/buildah* and the working
// container in containers-storage stay behind. So the signal goes to the helper when there is one.
import { readdirSync, readFileSync } from 'node:fs';

/** The argv[0] of buildah's re-executed RUN helpers (run.go runUsingRuntimeCommand, chroot/run_common.go runUsingChrootCommand). */
export const RUNTIME_HELPERS: ReadonlySet<string> = new Set(['buildah-oci-runtime', 'buildah-chroot-runtime']);

/** The parent pid in a /proc/PID/stat line: the field after the state, which follows the last ')' (comm may hold spaces and parentheses). */
export function parentPidOfStat(stat: string): number | undefined {
  const fields = stat
    .slice(stat.lastIndexOf(')') + 1)
    .trim()
    .split(/\s+/);
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

/** argv[0] of a /proc/PID/cmdline. */
export function argv0OfCmdline(cmdline: Buffer | string): string {
  const text = typeof cmdline === 'string' ? cmdline : cmdline.toString('utf8');
  const end = text.indexOf('\0');
  return end === -1 ? text : text.slice(0, end);
}

/** The children of `pid` that are RUN helpers, from /proc; none when there is no /proc or no RUN is running. */
export function runtimeHelpersOf(pid: number, proc = '/proc'): number[] {
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return [];
  }
  const helpers: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (parentPidOfStat(readFileSync(`${proc}/${entry}/stat`, 'utf8')) !== pid) continue;
      if (RUNTIME_HELPERS.has(argv0OfCmdline(readFileSync(`${proc}/${entry}/cmdline`)))) helpers.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return helpers.sort((a, b) => a - b);
}
