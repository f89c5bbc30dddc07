// Lower layers name a bad input in their own words (InputError: `root`, `home`, `mirror`); the CLI
// names the flag that gave it, so `root: not a directory` reaches the user as `--root: not a directory`.
import { UsageError } from '../errors.js';

/**
 * Recognised by shape rather than `instanceof`: each subcommand is bundled on its own
 * (scripts/bundle.mjs), with its own copy of the error classes.
 */
function isInputError(error: unknown): error is Error & { input: string; detail: string } {
  return error instanceof Error && 'input' in error && typeof error.input === 'string' && 'detail' in error && typeof error.detail === 'string';
}

/** The error as the user should see it: an input a command has a flag for becomes a usage error naming that flag. */
export function withFlagNames(error: unknown, inputs: Readonly<Record<string, string>>): unknown {
  if (!isInputError(error)) return error;
  const flag = inputs[error.input];
  return flag === undefined ? error : new UsageError(error.detail, flag, { cause: error });
}
