// `dib-pypi serve [DIR]`: serve a mirror over HTTP (PEP 503 + 691), or print an nginx configuration for it.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DibPypiError, UsageError } from '../errors.js';
import { redact } from '../redact.js';
import type { ServerOptions, ServerOutput, ServerStop } from '../server/options.js';
import { printLine } from './output.js';
import { findPackageRoot } from './package-root.js';
import { openFilesLimit, serveBasics, serveOptions, type ServeBasics } from './server-options.js';
import type { ServeCommandLine, ServeFlags } from './commands/serve-options.js';
import { nginxAccess } from './serve-access.js';
import { layeredServeFlags, renderSettings } from './serve-settings.js';
import { DEFAULT_PORT, urlHost } from './serve-values.js';
import { createStatusLine, type StatusLine } from './status-line.js';

/** An error, warning or event line of the server on stderr: an ISO 8601 timestamp first, redacted, one write per line. */
function logEvent(line: string): void {
  process.stderr.write(`${new Date().toISOString()} dib-pypi serve: ${redact(line)}\n`);
}

/** Our package.json's version, for the web page's status page. */
function packageVersion(): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : fileURLToPath(new URL('.', import.meta.url));
  return findPackageRoot(here)?.version;
}

export async function runServe(commandLine: ServeCommandLine): Promise<void> {
  const flags = layeredServeFlags(commandLine, process.env);
  if (flags.printConfig === true) {
    process.stdout.write(renderSettings(flags.settings, process.env));
    return;
  }
  const basics = serveBasics(flags, process.env);
  if (flags.nginxConf === true) return printNginxConf(basics, flags);
  let settings: ReturnType<typeof serveOptions>;
  try {
    settings = serveOptions(flags, basics, { env: process.env, cores: availableParallelism(), fdLimit: openFilesLimit() });
  } catch (error) {
    // In a serving process of a cluster (the same command, run again by the primary): its channel to the primary would keep it alive.
    (await import('../server/cluster.js')).leaveCluster();
    throw error;
  }
  const [{ startServer }, { ListenError }] = await Promise.all([import('../server/start-server.js'), import('../server/listen.js')]);
  let stop: ServerStop;
  try {
    const options: ServerOptions = { ...settings.options, version: packageVersion() };
    stop = await (await startServer(options, serverOutput(options, settings.warnings))).stopped;
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    // The flag that changes what failed.
    if (error.problem === 'in-use') throw new DibPypiError(`${error.message} (--port 0 picks a free one)`, { cause: error });
    if (error.problem === 'no-such-address') throw new UsageError(error.message, '--host', { cause: error });
    throw error;
  }
  if ('failedWith' in stop) process.exitCode = stop.failedWith;
  else if (stop.signal === 'SIGINT') process.exitCode = 130;
}

async function printNginxConf(basics: ServeBasics, flags: ServeFlags): Promise<void> {
  const { renderNginxConf, renderNginxSite } = await import('../server/nginx-conf.js');
  const host = urlHost(basics.host);
  const port = basics.port === 0 ? DEFAULT_PORT : basics.port;
  const { usersFile, tls } = nginxAccess(flags);
  const prefix = flags.nginxPrefix;
  process.stdout.write(
    prefix === undefined
      ? renderNginxSite({ root: basics.dir, listen: `${host}:${port}`, usersFile, tls })
      : renderNginxConf({ root: basics.dir, host, port, dir: resolve(prefix), workers: 'auto', usersFile, tls }),
  );
}

/**
 * The server's output: events on stderr, the access log on stdout, the URL once it listens (after
 * the warnings about the settings, when one process serves).
 */
function serverOutput(options: ServerOptions, warnings: readonly string[]): ServerOutput {
  let status: StatusLine | undefined;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const url = (port: number) => `${options.dir} at ${scheme}://${urlHost(options.host)}:${port}/ (also /simple/)`;
  return {
    log: logEvent,
    accessLine: (line) => void process.stdout.write(`${line}\n`),
    indexProgress: {
      update: (p) =>
        (status ??= createStatusLine(process.stderr)).update(p.total > 0 ? `indexing: ${p.phase} ${p.done}/${p.total}` : `indexing: ${p.phase}...`),
      clear: () => status?.clear(),
    },
    onListening: ({ port, processes }) => {
      for (const warning of warnings) logEvent(`warning: ${warning}`);
      if (processes > 1) return printLine(`dib-pypi serve: ${url(port)}, ${processes} processes; Ctrl-C stops`);
      printLine(`dib-pypi serve: ${url(port)}; Ctrl-C stops`);
      const proxy = options.proxy;
      if (proxy !== undefined)
        printLine(`pull-through cache of ${proxy.upstreams.map((u) => redact(u)).join(', ')}${proxy.offline ? ' (offline: upstream never contacted)' : ''}`);
    },
  };
}
