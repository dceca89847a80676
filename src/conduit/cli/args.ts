/**
 * A command line read by node:util's parseArgs (long and short names, "--name=value",
 * "-n5"), as the options in the order given, for commands that check each one and say
 * which was wrong in their own words.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface GivenOption {
  kind: 'option';
  /** The option's long name ("follow" for -f); an unknown option's name as given. */
  name: string;
  /** As typed: "-f", "--follow". */
  rawName: string;
  /** A string option's value; undefined when none was given, or when the next argument is another option. */
  value: string | undefined;
  /** Whether `name` is one of the specs. */
  known: boolean;
}

export interface GivenPositional {
  kind: 'positional';
  value: string;
}

/** The command line in the order given. */
export interface ReadArgs {
  items: (GivenOption | GivenPositional)[];
}

/**
 * The options and positionals of `args`. Unknown options are kept (marked), for the caller
 * to refuse or ignore; a string option followed by another option ("--since --json") has
 * no value, as a value that starts with a dash must be given inline ("--since=-1").
 */
export function readArgs(args: string[], specs: OptionSpecs): ReadArgs {
  const { tokens } = parseArgs({ args, options: specs, strict: false, allowPositionals: true, tokens: true });
  const read: ReadArgs = { items: [] };
  for (const t of tokens) {
    if (t.kind === 'positional') read.items.push({ kind: 'positional', value: t.value });
    if (t.kind !== 'option') continue;
    const spec = Object.hasOwn(specs, t.name) ? specs[t.name] : undefined;
    const value = spec?.type === 'string' && t.value !== undefined && (t.inlineValue || !t.value.startsWith('-')) ? t.value : undefined;
    read.items.push({ kind: 'option', name: t.name, rawName: t.rawName, value, known: spec !== undefined });
  }
  return read;
}

/** The last value given to a string option (undefined: not given; null: given without a value). */
export function lastValue(read: ReadArgs, name: string): string | null | undefined {
  const given = read.items.filter((o): o is GivenOption => o.kind === 'option' && o.name === name);
  return given.length ? given[given.length - 1].value ?? null : undefined;
}

/** Whether a boolean option was given. */
export function given(read: ReadArgs, name: string): boolean {
  return read.items.some((o) => o.kind === 'option' && o.name === name);
}
