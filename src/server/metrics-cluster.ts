// /metrics with --workers N: the serving process that gets the request asks the primary, which asks
// every serving process for its snapshot over the cluster channel and answers with their sum, so a
// scrape sees the whole server whichever process answers it. A process that does not answer within
// COLLECT_MS is left out (dib_pypi_processes says how many were counted).
import cluster, { type Worker } from 'node:cluster';
import { mergeSnapshots, renderMetrics, type Metrics, type MetricsSnapshot } from './metrics.js';

const COLLECT_MS = 1000;

type Message =
  | { dibPypiMetrics: 'ask'; id: number }
  | { dibPypiMetrics: 'collect'; id: number }
  | { dibPypiMetrics: 'report'; id: number; snapshot: MetricsSnapshot }
  | { dibPypiMetrics: 'answer'; id: number; snapshot: MetricsSnapshot; processes: number; uptimeSeconds: number };

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as { dibPypiMetrics?: unknown }).dibPypiMetrics === 'string';
}

export interface ServerSnapshot {
  snapshot: MetricsSnapshot;
  /** Processes whose counters are in it. */
  processes: number;
  /** Since the server (the primary, with --workers) started. */
  uptimeSeconds: number;
}

/** In the primary: answer the serving processes' requests for the sum of all their metrics. */
export function answerMetricsForWorkers(): void {
  let next = 0;
  const pending = new Map<number, { reports: MetricsSnapshot[]; expected: number; finish: () => void }>();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.dibPypiMetrics === 'report') {
      const round = pending.get(message.id);
      if (round === undefined) return;
      round.reports.push(message.snapshot);
      if (round.reports.length >= round.expected) round.finish();
      return;
    }
    if (message.dibPypiMetrics !== 'ask') return;
    const id = ++next;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true);
    const round = {
      reports: [] as MetricsSnapshot[],
      expected: workers.length,
      finish: () => {
        clearTimeout(timer);
        pending.delete(id);
        if (!worker.isConnected()) return;
        worker.send({
          dibPypiMetrics: 'answer',
          id: message.id,
          snapshot: mergeSnapshots(round.reports),
          processes: round.reports.length,
          uptimeSeconds: process.uptime(),
        } satisfies Message);
      },
    };
    const timer = setTimeout(round.finish, COLLECT_MS);
    pending.set(id, round);
    for (const each of workers) each.send({ dibPypiMetrics: 'collect', id } satisfies Message);
  });
}

/**
 * This process's metrics, or, in a serving process of a cluster, the sum over all serving processes
 * (its own alone when the primary does not answer in time).
 */
export class MetricsSource {
  readonly #local: Metrics;
  readonly #waiting = new Map<number, (answer: ServerSnapshot) => void>();
  #next = 0;

  constructor(local: Metrics) {
    this.#local = local;
    if (!cluster.isWorker) return;
    process.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.dibPypiMetrics === 'collect')
        process.send?.({ dibPypiMetrics: 'report', id: message.id, snapshot: this.#local.snapshot() } satisfies Message);
      else if (message.dibPypiMetrics === 'answer')
        this.#waiting.get(message.id)?.({ snapshot: message.snapshot, processes: message.processes, uptimeSeconds: message.uptimeSeconds });
    });
  }

  read(): Promise<ServerSnapshot> {
    const alone: ServerSnapshot = { snapshot: this.#local.snapshot(), processes: 1, uptimeSeconds: process.uptime() };
    if (!cluster.isWorker || process.send === undefined) return Promise.resolve(alone);
    const id = ++this.#next;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(alone), 2 * COLLECT_MS);
      const finish = (answer: ServerSnapshot) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(answer);
      };
      this.#waiting.set(id, finish);
      process.send?.({ dibPypiMetrics: 'ask', id } satisfies Message);
    });
  }

  /** The exposition text of read(), with the process count and uptime. */
  async text(): Promise<string> {
    const { snapshot, processes, uptimeSeconds } = await this.read();
    return renderMetrics({
      ...snapshot,
      values: { ...snapshot.values, 'dib_pypi_processes|': processes, 'dib_pypi_uptime_seconds|': Math.round(uptimeSeconds * 1000) / 1000 },
    });
  }
}
