// One declaration per command: its flags (a node:util parseArgs spec with each flag's help lines),
// its help text and a normaliser from the parsed flags to the options its module runs with. The
// type of the parsed flags is derived from the spec, so no command needs a cast to read them.
import type { ParseArgsConfig } from 'node:util';
import { InternalError } from '../../errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  default?: string;
  /** The command does not run without it (parseArgs itself has no such notion). */
  required?: boolean;
  /** The flag's lines in the command's --help, as printed (indented, aligned). */
  help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean' ? boolean : S['multiple'] extends true ? string[] : string;
type IsAlwaysSet<S> = S extends { default: string } ? true : S extends { required: true } ? true : false;

/** What parseArgs gives for a spec, by flag name: flags with a default or marked required are always there. */
export type Values<O extends OptionSpecs> = {
  -readonly [K in keyof O as IsAlwaysSet<O[K]> extends true ? K : never]: ValueOf<O[K]>;
} & {
  -readonly [K in keyof O as IsAlwaysSet<O[K]> extends true ? never : K]?: ValueOf<O[K]>;
};

export interface Positionals {
  /** Their names, for usage errors. */
  names: string;
  min: number;
  max: number;
}

export interface Declaration<O extends OptionSpecs, T> {
  /** `configure`, or `mirror add` for a command of a group. */
  name: string;
  summary: string;
  usage: string;
  options: O;
  /** Help lines shown before the flags: the positional arguments. */
  arguments?: string;
  /** The flags' order in --help, when it is not the spec's. */
  helpOrder?: readonly (keyof O & string)[];
  /** Paragraphs shown after the options. */
  notes: string;
  /** Positional arguments allowed; none when absent. */
  positionals?: Positionals;
  /** The command parses its own arguments (`docker build` passes docker's flags through): normalize gets them all as positionals. */
  rawArgs?: boolean;
  /**
   * The flag that gave each input the lower layers name in their errors (src/errors.ts InputError),
   * when it is not the flag of the same name: `{ htpasswd: '--upload-auth' }` turns
   * "htpasswd: ..." into "--upload-auth: ...". An input named as one of the flags is that flag.
   */
  inputs?: Readonly<Record<string, string>>;
  /** Pure: flags and positionals (already checked against the spec) -> the options the command runs with. */
  normalize(values: Values<O>, positionals: string[]): T;
}

/** A declaration, checked and with its types inferred (`const`: literal flag types, so `values` is exact). */
export function defineCommand<const O extends OptionSpecs, T>(declaration: Declaration<O, T>): Declaration<O, T> {
  return declaration;
}

/** The options a declaration's normaliser returns: what its command module takes. */
export type OptionsOf<D> = D extends { normalize(...args: never[]): infer T } ? T : never;

function matches(spec: OptionSpec, value: unknown): boolean {
  const one = (v: unknown) => typeof v === (spec.type === 'boolean' ? 'boolean' : 'string');
  return spec.multiple === true ? Array.isArray(value) && value.every(one) : one(value);
}

/** Whether `values` (from parseArgs, or layered settings) is what `options` declares: known flags, right types, the always-set ones set. */
export function hasValuesOf<O extends OptionSpecs>(options: O, values: Readonly<Record<string, unknown>>): values is Values<O> {
  for (const [name, value] of Object.entries(values)) {
    const spec = options[name];
    if (value !== undefined && (spec === undefined || !matches(spec, value))) return false;
  }
  return Object.entries(options).every(([name, spec]) => (spec.required !== true && spec.default === undefined) || values[name] !== undefined);
}

/** The spec as parseArgs takes it (without our help and required). */
export function parseArgsOptions(options: OptionSpecs): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(options).map(([name, { type, multiple, short, default: fallback }]) => [
      name,
      {
        type,
        ...(multiple === undefined ? {} : { multiple }),
        ...(short === undefined ? {} : { short }),
        ...(fallback === undefined ? {} : { default: fallback }),
      },
    ]),
  );
}

/** The flags' help lines, in help order. */
export function optionsHelp<O extends OptionSpecs>(declaration: Declaration<O, unknown>): string {
  const order: readonly string[] = declaration.helpOrder ?? Object.keys(declaration.options);
  const lines = order.map((name) => declaration.options[name]?.help ?? '');
  return [...(declaration.arguments === undefined ? [] : [declaration.arguments]), ...lines].join('\n');
}

/** A command of the table: its declaration with the types erased, and what runs it. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpecs;
  /** `--flag VALUE  description` lines shown by --help. */
  help: string;
  notes: string;
  positionals: Positionals | undefined;
  rawArgs: boolean;
  /** Input names of the lower layers' errors -> the flag (or argument) that gave it. */
  inputs: Readonly<Record<string, string>>;
  /** Flags that must be given, in spec order. */
  required: string[];
  /** Normalise the parsed flags and run the command with them. */
  run(values: Readonly<Record<string, unknown>>, positionals: string[]): Promise<void>;
}

/** The table's entry for a declaration: `run` (usually a lazy import of the command's module) gets the normalised options. */
export function command<O extends OptionSpecs, T>(declaration: Declaration<O, T>, run: (options: T) => Promise<void> | void): Command {
  return {
    name: declaration.name,
    summary: declaration.summary,
    usage: declaration.usage,
    options: declaration.options,
    help: optionsHelp(declaration),
    notes: declaration.notes,
    positionals: declaration.positionals,
    rawArgs: declaration.rawArgs === true,
    inputs: { ...Object.fromEntries(Object.keys(declaration.options).map((name) => [name, `--${name}`])), ...declaration.inputs },
    required: Object.entries(declaration.options)
      .filter(([, spec]) => spec.required === true)
      .map(([name]) => name),
    run: async (values, positionals) => {
      if (!hasValuesOf(declaration.options, values))
        throw new InternalError(`${declaration.name}: parsed flags that its spec does not declare: ${JSON.stringify(values)}`);
      await run(declaration.normalize(values, positionals));
    },
  };
}
