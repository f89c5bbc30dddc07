// `--retries -1`: a negative number given as a separate argument is the option's value, not an option.
import type { ParseArgsConfig } from 'node:util';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs reads `--retries -1` as a missing value followed by an option `-1`; a value that looks
 * like a negative number (`-1`, `-2.5`) is joined to its option (`--retries=-1`), so every
 * option's own validation reports it, as it does for `--retries=-1`. Stops at `--`.
 */
export function joinNegativeValues(args: readonly string[], options: OptionSpecs): string[] {
  const takesValue = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type !== 'string') continue;
    takesValue.set(`--${name}`, name);
    if (spec.short !== undefined) takesValue.set(`-${spec.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return [...out, ...args.slice(i)];
    const name = takesValue.get(arg);
    const next = args[i + 1];
    if (name !== undefined && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}
