// The error classes of dib-pypi: each carries facts and the exit code the CLI turns it into.

/** Base class: every error dib-pypi throws on purpose. */
export class DibPypiError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags, environment, `.env` or other input: exit 2. */
export class UsageError extends DibPypiError {
  override readonly exitCode = 2;
  /** Where the bad value came from: a flag, a variable name, a file. */
  readonly source: string | undefined;
  constructor(message: string, source?: string, options?: { cause?: unknown }) {
    super(source ? `${source}: ${message}` : message, options);
    this.source = source;
  }
}

/**
 * An input a lower layer cannot use, named in that layer's own words (`root`, `home`, `mirror`),
 * never by the flag that gave it: the CLI knows which flag that was and says so (src/cli/input-errors.ts).
 * Still a UsageError (exit 2): outside the CLI, the message names the input.
 */
export class InputError extends UsageError {
  /** Which input: the layer's name for it. */
  readonly input: string;
  /** What is wrong with it, without the input's name. */
  readonly detail: string;
  constructor(input: string, detail: string, options?: { cause?: unknown }) {
    super(detail, input, options);
    this.input = input;
    this.detail = detail;
  }
}

/** A path that must be a directory and is not (or is missing). */
export class NotADirectoryError extends InputError {
  readonly path: string;
  constructor(input: string, path: string) {
    super(input, `not a directory: ${JSON.stringify(path)}`);
    this.path = path;
  }
}

/** A file or directory that cannot be used as given: missing, unreadable, of the wrong kind or content. */
export class UnusablePathError extends InputError {
  readonly path: string;
  /** `detail` says what is wrong, naming the path as the user gave it. */
  constructor(input: string, path: string, detail: string, options?: { cause?: unknown }) {
    super(input, detail, options);
    this.path = path;
  }
}

/** A path inside a target root that would lead outside it, or onto a mount inside it. */
export class ConfinementError extends DibPypiError {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/** Another dib-pypi holds the root, or the journal does not belong to this root. */
export class StateError extends DibPypiError {}

/** An impossible state: a bug in dib-pypi. */
export class InternalError extends DibPypiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`internal error: ${message}\nThis is a bug in dib-pypi; please report it with the command you ran.`, options);
  }
}

/** An external command (pip, ...) failed: what it was (redacted), how it ended, and what it printed. */
export class CommandFailedError extends DibPypiError {
  /** The command line, credentials redacted. */
  readonly command: string;
  /** The command's exit code; undefined when it was killed or could not start. */
  readonly commandExitCode: number | undefined;
  /** stdout and stderr, interleaved. */
  readonly output: string;
  constructor(message: string, facts: { command: string; commandExitCode: number | undefined; output: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.command = facts.command;
    this.commandExitCode = facts.commandExitCode;
    this.output = facts.output;
  }
}

/** Files that already exist with other bytes: dib-pypi never overwrites a distribution. */
export class FileConflictError extends DibPypiError {
  readonly paths: string[];
  constructor(message: string, paths: string[]) {
    super(message);
    this.paths = paths;
  }
}
