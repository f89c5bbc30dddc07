// Everything the CLI prints goes through here, redacted.
import { redact, redactDeep } from '../redact.js';

export function printLine(text: string): void {
  process.stdout.write(redact(text) + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(redact(JSON.stringify(redactDeep(value), null, 2)) + '\n');
}

export function warn(text: string): void {
  process.stderr.write(`dib-pypi: warning: ${redact(text)}\n`);
}

export function warnAll(warnings: readonly string[]): void {
  for (const w of warnings) warn(w);
}
