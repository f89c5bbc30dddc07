// Several serving processes: a primary process that forks N of them sharing one listening socket
// (node:cluster, round-robin), replaces one that dies, and stops them all on SIGINT/SIGTERM. The
// primary serves nothing itself; a worker runs the same program with the same arguments, so it
// reaches startServer with the same options.
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { ServerStop } from './options.js';

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker that has stopped serving (or could not start): close the channel to the primary, which would keep the process alive, and exit with process.exitCode. */
export function leaveCluster(): void {
  cluster.worker?.disconnect();
}

export interface PrimaryOptions {
  workers: number;
  /** All workers listen: the port they share (the one port 0 picked). */
  onListening: (port: number) => void;
  log: (line: string) => void;
  /** A worker that dies after start-up is replaced, unless this many died within RESTART_WINDOW_MS. */
  maxRestarts?: number;
  /** SIGHUP is passed on to every worker (which reads its certificate and password files again); else it ends the primary, as by default. */
  forwardHangup?: boolean;
}

const RESTART_WINDOW_MS = 60_000;

/**
 * Runs until SIGINT/SIGTERM (or until the workers cannot be kept up) and resolves with why it stopped.
 * The first worker starts alone: when it cannot listen (port in use, no such address), its error is
 * printed once and its exit code is the primary's failure; the others are forked once it listens, on its port.
 */
export function runPrimary(options: PrimaryOptions): Promise<ServerStop> {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const maxRestarts = options.maxRestarts ?? 5;
  const listening = new Set<Worker>();
  const deaths: number[] = [];
  let started = false;
  let stopping: ServerStop | undefined;
  let port = 0;

  return new Promise((done) => {
    const finishWhenEmpty = () => {
      if (stopping !== undefined && Object.keys(cluster.workers ?? {}).length === 0) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('SIGHUP', onHangup);
        done(stopping);
      }
    };
    const stop = (why: ServerStop) => {
      if (stopping !== undefined) return;
      stopping = why;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      finishWhenEmpty();
    };
    const onSignal = (signal: 'SIGINT' | 'SIGTERM') => stop({ signal });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const onHangup = () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
    };
    if (options.forwardHangup === true) process.on('SIGHUP', onHangup);

    cluster.on('listening', (worker: Worker, address: AddressInfo) => {
      listening.add(worker);
      if (started || stopping !== undefined) return;
      if (listening.size === 1) {
        port = address.port;
        for (let i = 1; i < options.workers; i++) cluster.fork();
      }
      if (listening.size === options.workers) {
        started = true;
        options.onListening(port);
      }
    });
    cluster.on('exit', (worker: Worker, code: number | null, signal: NodeJS.Signals | null) => {
      const wasListening = listening.delete(worker);
      if (stopping !== undefined) return finishWhenEmpty();
      if (!started) {
        // A worker that never listened has printed why (e.g. the port is in use): that is the answer.
        if (!wasListening) return stop({ failedWith: code === null || code === 0 ? 1 : code });
      }
      const now = Date.now();
      deaths.push(now);
      while (deaths.length > 0 && (deaths[0] as number) < now - RESTART_WINDOW_MS) deaths.shift();
      const how = signal === null ? `exit code ${code ?? '?'}` : `signal ${signal}`;
      if (deaths.length > maxRestarts) {
        options.log(`a serving process died (${how}), the ${deaths.length}th within ${RESTART_WINDOW_MS / 1000} s: stopping`);
        return stop({ failedWith: 1 });
      }
      options.log(`a serving process died (${how}): starting another`);
      cluster.fork();
    });
    cluster.fork();
  });
}
