// The server's counters, in the Prometheus text exposition format 0.0.4. Labels come from small fixed
// sets (route, status code, cache result): never a path, a project, a URL or a user, so the number
// of series stays bounded and nothing secret can show. A snapshot is plain JSON, so the primary of
// --workers N can add up its serving processes' snapshots.

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  name: string;
  kind: Kind;
  help: string;
  buckets?: readonly number[];
}

const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30] as const;
const UPSTREAM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** Every metric, in the order they are written. */
export const FAMILIES: readonly Family[] = [
  { name: 'dib_pypi_http_requests_total', kind: 'counter', help: 'Requests answered, by route and status code.' },
  { name: 'dib_pypi_http_response_bytes_total', kind: 'counter', help: 'Response body bytes sent, by route.' },
  {
    name: 'dib_pypi_http_request_duration_seconds',
    kind: 'histogram',
    help: 'Time from request to the last byte handed to the socket, by route.',
    buckets: HTTP_BUCKETS,
  },
  { name: 'dib_pypi_http_aborted_total', kind: 'counter', help: 'Responses cut off before their end (the client went away, or a failed download), by route.' },
  {
    name: 'dib_pypi_cache_requests_total',
    kind: 'counter',
    help: 'Pull-through cache answers by kind (page, file, metadata) and result (hit, miss, refreshed, stale, offline, private).',
  },
  { name: 'dib_pypi_cache_evictions_total', kind: 'counter', help: 'Downloaded files the pull-through cache evicted to stay within --cache-max-size.' },
  { name: 'dib_pypi_upstream_requests_total', kind: 'counter', help: 'Requests to upstream indexes, by kind (page, file) and outcome (ok, error).' },
  { name: 'dib_pypi_upstream_errors_total', kind: 'counter', help: 'Failed requests to upstream indexes, by kind (page, file).' },
  {
    name: 'dib_pypi_upstream_request_duration_seconds',
    kind: 'histogram',
    help: 'Time of a request to an upstream index (a file: the whole download), by kind.',
    buckets: UPSTREAM_BUCKETS,
  },
  {
    name: 'dib_pypi_uploads_total',
    kind: 'counter',
    help: 'Upload attempts by outcome (stored, unauthorized, forbidden, exists, invalid, too_large, disabled, failed).',
  },
  { name: 'dib_pypi_connections_total', kind: 'counter', help: 'Connections accepted.' },
  { name: 'dib_pypi_open_connections', kind: 'gauge', help: 'Connections open now.' },
  { name: 'dib_pypi_processes', kind: 'gauge', help: 'Serving processes whose counters are included.' },
  { name: 'dib_pypi_uptime_seconds', kind: 'gauge', help: 'Seconds since the server started.' },
];

const FAMILY_BY_NAME = new Map(FAMILIES.map((f) => [f.name, f]));

interface HistogramValue {
  /** Per bucket (not cumulative), then the +Inf overflow last. */
  counts: number[];
  sum: number;
  count: number;
}

/** What one process counted: series keyed `name|labels` (labels already rendered: `route="file",code="200"`). */
export interface MetricsSnapshot {
  values: Record<string, number>;
  histograms: Record<string, HistogramValue>;
}

/** A label value in the exposition format: `\`, `"` and newlines escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelsOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}="${escapeLabelValue(value)}"`)
    .join(',');
}

/** One process's metrics: counters and gauges by series, histograms. */
export class Metrics {
  readonly #values = new Map<string, number>();
  readonly #histograms = new Map<string, HistogramValue>();

  add(name: string, labels: Record<string, string>, by = 1): void {
    this.addTo(`${name}|${labelsOf(labels)}`, by);
  }

  /** add() with the series key already made (`name|labels`, label values escaped): for the per-request counters. */
  addTo(key: string, by: number): void {
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  set(name: string, labels: Record<string, string>, value: number): void {
    this.#values.set(`${name}|${labelsOf(labels)}`, value);
  }

  observe(name: string, labels: Record<string, string>, value: number): void {
    this.observeAt(name, labelsOf(labels), value);
  }

  /** observe() with the labels already rendered (values escaped). */
  observeAt(name: string, labels: string, value: number): void {
    const buckets = FAMILY_BY_NAME.get(name)?.buckets ?? [];
    const key = `${name}|${labels}`;
    let histogram = this.#histograms.get(key);
    if (histogram === undefined) {
      histogram = { counts: new Array<number>(buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.#histograms.set(key, histogram);
    }
    let i = 0;
    while (i < buckets.length && value > (buckets[i] as number)) i++;
    histogram.counts[i] = (histogram.counts[i] ?? 0) + 1;
    histogram.sum += value;
    histogram.count += 1;
  }

  snapshot(): MetricsSnapshot {
    return {
      values: Object.fromEntries(this.#values),
      histograms: Object.fromEntries([...this.#histograms].map(([key, h]) => [key, { counts: [...h.counts], sum: h.sum, count: h.count }])),
    };
  }
}

/** The sum of several processes' snapshots (gauges such as open connections add up too). */
export function mergeSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  const merged: MetricsSnapshot = { values: {}, histograms: {} };
  for (const snapshot of snapshots) {
    for (const [key, value] of Object.entries(snapshot.values)) merged.values[key] = (merged.values[key] ?? 0) + value;
    for (const [key, h] of Object.entries(snapshot.histograms)) {
      const into = merged.histograms[key];
      if (into === undefined) merged.histograms[key] = { counts: [...h.counts], sum: h.sum, count: h.count };
      else {
        h.counts.forEach((n, i) => {
          into.counts[i] = (into.counts[i] ?? 0) + n;
        });
        into.sum += h.sum;
        into.count += h.count;
      }
    }
  }
  return merged;
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

function series(name: string, labels: string, extra = ''): string {
  const all = labels === '' ? extra : extra === '' ? labels : `${labels},${extra}`;
  return all === '' ? name : `${name}{${all}}`;
}

/** The text exposition format 0.0.4: `# HELP`, `# TYPE`, then the family's series sorted by labels. */
export function renderMetrics(snapshot: MetricsSnapshot): string {
  const lines: string[] = [];
  const byFamily = new Map<string, string[]>();
  for (const key of [...Object.keys(snapshot.values), ...Object.keys(snapshot.histograms)]) {
    const name = key.slice(0, key.indexOf('|'));
    byFamily.set(name, [...(byFamily.get(name) ?? []), key]);
  }
  for (const family of FAMILIES) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.kind}`);
    for (const key of (byFamily.get(family.name) ?? []).sort()) {
      const labels = key.slice(key.indexOf('|') + 1);
      if (family.kind !== 'histogram') {
        lines.push(`${series(family.name, labels)} ${formatNumber(snapshot.values[key] ?? 0)}`);
        continue;
      }
      const h = snapshot.histograms[key] as HistogramValue;
      let cumulative = 0;
      (family.buckets ?? []).forEach((bound, i) => {
        cumulative += h.counts[i] ?? 0;
        lines.push(`${series(`${family.name}_bucket`, labels, `le="${bound}"`)} ${cumulative}`);
      });
      lines.push(`${series(`${family.name}_bucket`, labels, 'le="+Inf"')} ${h.count}`);
      lines.push(`${series(`${family.name}_sum`, labels)} ${formatNumber(h.sum)}`);
      lines.push(`${series(`${family.name}_count`, labels)} ${h.count}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The media type of the text format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
