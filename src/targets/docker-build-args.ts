// `dib-pypi docker build ARGS`: our own flags apart from docker build's, which pass through untouched. Pure.
import { UsageError } from '../errors.js';
import { appendAll } from '../append-all.js';

/** Our flags (the plan's and --mirror); everything else belongs to docker build. */
export interface OwnBuildFlags {
  mirror?: string;
  mirrorUrl: string[];
  offline: boolean;
  noPypi: boolean;
  retries?: string;
  envFile?: string;
  /** `--lock FILE`: the lock to install against. */
  lock?: string;
}

export interface SplitBuildArgs {
  own: OwnBuildFlags;
  /** docker build's flags, in the user's order, without -f/--file and the context. */
  docker: string[];
  /** -f/--file as given (relative to the working directory, as for docker), `-` for stdin. */
  file?: string;
  context: string;
  /** Whether the user chose a --network. */
  network?: string;
}

/** The build command whose flags pass through: which of them take a value, and its name for messages. */
export interface BuildDialect {
  command: string;
  valueFlags: ReadonlySet<string>;
}

const OWN_VALUE = new Set(['--mirror', '--mirror-url', '--retries', '--env-file', '--lock']);
const OWN_BOOLEAN = new Set(['--offline', '--no-pypi']);

/** docker build's flags that take a value (docker 20.10 and later, classic and BuildKit). */
const DOCKER_VALUE = new Set([
  '-t',
  '--tag',
  '-f',
  '--file',
  '--build-arg',
  '--target',
  '--network',
  '--label',
  '--cache-from',
  '--cache-to',
  '--platform',
  '--progress',
  '--secret',
  '--ssh',
  '--iidfile',
  '--add-host',
  '--cgroup-parent',
  '--cpu-period',
  '--cpu-quota',
  '-c',
  '--cpu-shares',
  '--cpuset-cpus',
  '--cpuset-mems',
  '-m',
  '--memory',
  '--memory-swap',
  '--shm-size',
  '--ulimit',
  '--isolation',
  '--security-opt',
  '-o',
  '--output',
  '--build-context',
  '--attest',
  '--sbom',
  '--provenance',
  '--metadata-file',
  '--allow',
  '--annotation',
  '--builder',
  '--call',
]);

export const DOCKER_DIALECT: BuildDialect = { command: 'dib-pypi docker build', valueFlags: DOCKER_VALUE };

function addOwn(own: OwnBuildFlags, name: string, value: string): void {
  if (name === '--mirror') own.mirror = value;
  else if (name === '--mirror-url') own.mirrorUrl.push(value);
  else if (name === '--retries') own.retries = value;
  else if (name === '--lock') own.lock = value;
  else own.envFile = value;
}

/** `--name=value`, `--name value`, `-tvalue`, `-t value`. */
export function splitBuildArgs(args: readonly string[], dialect: BuildDialect = DOCKER_DIALECT): SplitBuildArgs {
  const valueFlags = dialect.valueFlags;
  const own: OwnBuildFlags = { mirrorUrl: [], offline: false, noPypi: false };
  const docker: string[] = [];
  const positionals: string[] = [];
  let file: string | undefined;
  let network: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      appendAll(positionals, args.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    let name = eq === -1 ? arg : arg.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (!arg.startsWith('--') && arg.length > 2) {
      // -tname, -t=name (pflag's short forms)
      name = arg.slice(0, 2);
      value = arg.slice(2).replace(/^=/, '');
      if (!valueFlags.has(name))
        throw new UsageError(
          `unknown or combined short option '${arg}': give ${dialect.command.replace('dib-pypi ', '')}'s short options one by one`,
          dialect.command,
        );
    }
    if (OWN_BOOLEAN.has(name)) {
      if (value !== undefined) throw new UsageError(`${name} takes no value`, dialect.command);
      if (name === '--offline') own.offline = true;
      else own.noPypi = true;
      continue;
    }
    const takesValue = OWN_VALUE.has(name) || valueFlags.has(name);
    if (takesValue && value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`option ${name} needs a value`, dialect.command);
    }
    if (OWN_VALUE.has(name)) addOwn(own, name, value as string);
    else if (name === '-f' || name === '--file') file = value;
    else {
      if (name === '--network') network = value;
      if (value === undefined) docker.push(name);
      else if (eq !== -1) docker.push(arg);
      else docker.push(name, value);
    }
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `expects one build context (a directory), got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}`,
      dialect.command,
    );
  }
  const context = positionals[0] as string;
  if (context === '-' || /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || context.startsWith('git@')) {
    throw new UsageError(`the build context must be a local directory (dib-pypi rewrites the Dockerfile), not ${JSON.stringify(context)}`, dialect.command);
  }
  return { own, docker, context, ...(file !== undefined ? { file } : {}), ...(network !== undefined ? { network } : {}) };
}
