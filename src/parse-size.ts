// A size as people write it (`500000`, `10M`, `1.5GB`, `512KiB`) in bytes: for flags and config files of any command. Pure.
import { InputError } from './errors.js';

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3, ti: 1024 ** 4 };

/** `500000`, `10M`, `1.5GB`, `512KiB` -> bytes; anything else is an InputError of `input` (an option's name, the CLI names the flag). */
export function parseSize(value: string, input: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?$/i.exec(value.trim());
  if (!match) throw new InputError(input, `expected a size such as 500000, 10M or 1.5GB, got ${JSON.stringify(value)}`);
  return Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] as number));
}
