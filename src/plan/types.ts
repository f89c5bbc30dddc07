// The typed plan that every target applies: which indexes pip uses, and where each value came from.

/** Where a value came from, in precedence order: flag > env > dotenv > default. */
export type ValueSource = 'flag' | 'env' | 'dotenv' | 'default';

/** A value together with the place it was read from, so `dib-pypi plan` can explain itself. */
export interface Sourced<T> {
  value: T;
  source: ValueSource;
  /** The flag or variable name, e.g. `--retries`, `DIB_PIP_RETRIES`. */
  origin: string;
}

/** One index pip will read. `url` may carry credentials: print it only through `redact()`. */
export interface IndexUrl {
  url: string;
  source: ValueSource;
  origin: string;
}

export interface Plan {
  indexUrl: IndexUrl;
  extraIndexUrls: IndexUrl[];
  /** host or host:port of every plain-http index (pip refuses plain http otherwise). */
  trustedHosts: string[];
  retries: Sourced<number> | undefined;
  offline: Sourced<boolean>;
  noPypi: Sourced<boolean>;
  /** Things the user should know: deprecated variables, ignored names, competing PIP_* variables. */
  warnings: string[];
}

/** What the CLI parsed from flags; strings are validated by buildPlan. */
export interface PlanFlags {
  mirrorUrls?: string[];
  offline?: boolean;
  noPypi?: boolean;
  retries?: string;
}

export type EnvMap = Readonly<Record<string, string | undefined>>;

export interface PlanInput {
  flags: PlanFlags;
  env: EnvMap;
  /** Variables parsed from the `.env` file (empty when there is none). */
  dotenv: EnvMap;
  /** Path of the `.env` file, named in messages. */
  dotenvPath?: string;
}

export const PUBLIC_INDEX_URL = 'https://pypi.org/simple';
export const DEFAULT_MIRROR_URL = 'file:///tmp/pypi';
