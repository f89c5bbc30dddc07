// `podman build` / `buildah build` flags that take a value (podman 4.3, buildah 1.28: the
// `--help` entries with a type and no optional value), so that their values are not taken for the
// context. `--pull` and `--ssh` take an optional value, given only as `--pull=always`. Pure.
import type { EnvMap } from '../plan/types.js';
import type { BuildDialect } from './docker-build-args.js';

const OCI_VALUE = new Set([
  '--add-host',
  '--annotation',
  '--arch',
  '--authfile',
  '--build-arg',
  '--build-context',
  '--cache-from',
  '--cache-to',
  '--cache-ttl',
  '--cap-add',
  '--cap-drop',
  '--cert-dir',
  '--cgroup-parent',
  '--cgroupns',
  '--cpp-flag',
  '--cpu-period',
  '--cpu-quota',
  '-c',
  '--cpu-shares',
  '--cpuset-cpus',
  '--cpuset-mems',
  '--creds',
  '--decryption-key',
  '--device',
  '--dns',
  '--dns-option',
  '--dns-search',
  '--env',
  '-f',
  '--file',
  '--format',
  '--from',
  '--hooks-dir',
  '--ignorefile',
  '--iidfile',
  '--ipc',
  '--isolation',
  '--jobs',
  '--label',
  '--logfile',
  '--manifest',
  '-m',
  '--memory',
  '--memory-swap',
  '--network',
  '--os',
  '--os-feature',
  '--os-version',
  '-o',
  '--output',
  '--pid',
  '--platform',
  '--retry',
  '--retry-delay',
  '--runtime',
  '--runtime-flag',
  '--secret',
  '--security-opt',
  '--shm-size',
  '--sign-by',
  '--signature-policy',
  '-t',
  '--tag',
  '--target',
  '--timestamp',
  '--ulimit',
  '--unsetenv',
  '--userns',
  '--userns-gid-map',
  '--userns-gid-map-group',
  '--userns-uid-map',
  '--userns-uid-map-user',
  '--uts',
  '--variant',
  '-v',
  '--volume',
]);

export const PODMAN_DIALECT: BuildDialect = { command: 'dib-pypi podman build', valueFlags: OCI_VALUE };
export const BUILDAH_DIALECT: BuildDialect = { command: 'dib-pypi buildah build', valueFlags: OCI_VALUE };

/**
 * The isolation the build runs with: the last `--isolation`, else $BUILDAH_ISOLATION (which both
 * read), else `oci`. `chroot` has no network namespace of its own, so it cannot take `--network none`.
 */
export function isolationOf(args: readonly string[], env: EnvMap): string {
  let isolation = env.BUILDAH_ISOLATION || 'oci';
  args.forEach((arg, i) => {
    if (arg === '--isolation' && args[i + 1] !== undefined) isolation = args[i + 1] as string;
    else if (arg.startsWith('--isolation=')) isolation = arg.slice('--isolation='.length);
  });
  return isolation;
}
