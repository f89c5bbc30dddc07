// A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line must be a
// `# HELP`, a `# TYPE` or a sample of a declared family; a histogram's buckets must be cumulative
// and end with +Inf equal to its _count. Throws on the first line that breaks a rule.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the sample with this name and exactly these labels (0 when absent). */
  value: (name: string, labels?: Record<string, string>) => number;
  /** The sum over the samples of this name whose labels include these. */
  sum: (name: string, labels?: Record<string, string>) => number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (\\S+)$`);
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === undefined) return labels;
  for (const match of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g)) {
    labels[match[1] as string] = (match[2] as string).replace(/\\(["\\n])/g, (_all, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base !== undefined && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base;
  }
  return undefined;
}

function matches(labels: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith('#')) {
      const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
      if (type !== null) {
        if (types.has(type[1] as string)) throw new Error(`${where}: a second TYPE`);
        types.set(type[1] as string, type[2] as string);
      } else if (!new RegExp(`^# HELP ${NAME} .*$`).test(line)) throw new Error(`${where}: neither HELP nor TYPE`);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (match === null || !VALUE.test(match[3] as string)) throw new Error(`${where}: not a sample`);
    const name = match[1] as string;
    const family = familyOf(name, types);
    if (family === undefined) throw new Error(`${where}: no TYPE before this sample`);
    if (types.get(family) === 'counter' && !name.endsWith('_total')) throw new Error(`${where}: a counter not named *_total`);
    const raw = match[3] as string;
    samples.push({ name, labels: parseLabels(match[2]), value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  checkHistograms(types, samples);
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && matches(s.labels, labels))?.value ?? 0;
  const sum = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && matches(s.labels, labels)).reduce((total, s) => total + s.value, 0);
  return { types, samples, value, sum };
}

function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const key = JSON.stringify(rest);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const [key, buckets] of groups) {
      let previous = -1;
      for (const b of buckets) {
        if (b.value < previous) throw new Error(`${family}${key}: buckets are not cumulative`);
        previous = b.value;
      }
      const last = buckets[buckets.length - 1];
      if (last?.labels.le !== '+Inf') throw new Error(`${family}${key}: the last bucket is not +Inf`);
      const count = samples.find((s) => s.name === `${family}_count` && JSON.stringify(s.labels) === key);
      if (count?.value !== last.value) throw new Error(`${family}${key}: +Inf bucket ${last.value} != _count ${count?.value}`);
    }
  }
}
