/**
 * The command line of every script: `--help`/`-h` prints the usage to stdout and exits 0 before any
 * work, an unknown option or a missing value exits 2 with what was wrong and a pointer to `--help`.
 *
 * A script declares its options once, with a description each, and the help text is built from
 * that declaration, so the help cannot drift from what the script accepts:
 *
 * ```ts
 * const CLI = {
 *   command: 'npm run synth',
 *   usage: 'Usage: npm run synth [-- --environments dev,canary] [--output DIR]',
 *   description: 'Synthesizes every environment with cdk-nag enforced.',
 *   options: {
 *     environments: { type: 'string', value: 'names', description: 'Comma-separated environments', defaultText: 'all' },
 *     output: { type: 'string', value: 'dir', default: 'cdk.out', description: 'Where the templates go' },
 *   },
 *   examples: ['npm run synth -- --environments dev'],
 *   exitCodes: [[0, 'synthesized'], [1, 'a cdk-nag finding'], [2, 'bad options']],
 * } as const satisfies CliSpec;
 *
 * const values = cliArgs(CLI); // values.output: string, values.environments: string | undefined
 * ```
 *
 * Options are parsed by node:util `parseArgs` in strict mode, without positionals. `cliArgs` is
 * for scripts (it exits); `parseCliArgs` is the same without exiting, for tests and for callers
 * that want to handle the outcome themselves.
 */
import { parseArgs } from 'node:util';
import { UserInputError } from '../../actions/shared/src/errors.js';

/** One option: node:util `parseArgs`'s option config plus what `--help` says about it. */
export interface CliOption {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean | string[] | boolean[];
  /** What the option does, for `--help` (one line). */
  readonly description: string;
  /** The value's placeholder in `--help` (`--local-port <port>`); defaults to `value`. */
  readonly value?: string;
  /** The default as `--help` shows it when there is no static `default` (e.g. "every environment"). */
  readonly defaultText?: string;
  /** Must be given: `--help` says so, and a command line without it is a usage error. */
  readonly required?: boolean;
}

/** What a script accepts and what its `--help` prints. */
export interface CliSpec {
  /** How the user runs the script (`npm run forward`): the `--help` pointer is `<command> -- --help`. */
  readonly command: string;
  /** The synopsis, starting with `Usage: `; may span lines. Repeated after every usage error. */
  readonly usage: string;
  /** What the script does: a paragraph. */
  readonly description: string;
  /** The options, by long name. `help` (`-h`) is added, do not declare it. */
  readonly options: Readonly<Record<string, CliOption>>;
  /** At least one full command line. */
  readonly examples: readonly string[];
  /** Each exit code and what it means. */
  readonly exitCodes: readonly (readonly [number, string])[];
}

/** An option as parseArgs takes it: without the fields only `--help` and the required check read. */
type ParseArgsOption = Omit<CliOption, 'description' | 'value' | 'defaultText' | 'required'>;

/** Exit code of a usage error (unknown option, missing value...), as is usual for CLIs. */
export const USAGE_EXIT_CODE = 2;

/** The options as node:util `parseArgs` types them (a `default` makes a value always present). */
type ParseConfig<S extends CliSpec> = { options: S['options']; strict: true; allowPositionals: false };
export type CliValues<S extends CliSpec> = ReturnType<typeof parseArgs<ParseConfig<S>>>['values'];

/** A bad command line: the message says what was wrong, then the synopsis and the `--help` pointer. */
export class UsageError extends UserInputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type ParsedCli<S extends CliSpec> =
  { readonly help: true; readonly text: string } | { readonly help: false; readonly values: CliValues<S> };

/**
 * Parses `argv` without side effects: `{ help: true, text }` when `--help`/`-h` is anywhere before a
 * `--` terminator (even beside bad options, so help always works), else the values. Throws a
 * UsageError for an unknown option, a missing value, a missing required option or a positional
 * argument.
 */
export function parseCliArgs<S extends CliSpec>(spec: S, argv: readonly string[]): ParsedCli<S> {
  if (wantsHelp(argv)) return { help: true, text: helpText(spec) };
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: parseArgsOptions(spec),
      strict: true,
      allowPositionals: false,
    });
    const missing = Object.keys(spec.options).find((name) => spec.options[name]?.required && !(name in values));
    if (missing) throw new Error(`--${missing} is required.`);
    return { help: false, values: values as CliValues<S> };
  } catch (error) {
    throw usageError(spec, error);
  }
}

/**
 * For a script's first line: the values of `process.argv` (or `argv`). On `--help`/`-h` prints the
 * help to stdout and exits 0; on a usage error prints `<name>: <message>` to stderr and exits 2.
 */
export function cliArgs<S extends CliSpec>(spec: S, argv: readonly string[] = process.argv.slice(2)): CliValues<S> {
  let parsed: ParsedCli<S>;
  try {
    parsed = parseCliArgs(spec, argv);
  } catch (error) {
    console.error(`${scriptName(spec)}: ${(error as Error).message}`);
    process.exit(USAGE_EXIT_CODE);
  }
  if (parsed.help) {
    process.stdout.write(parsed.text);
    process.exit(0);
  }
  return parsed.values;
}

/**
 * A whole number option within [min, max], or a UsageError naming the option and what it got
 * (parseArgs only knows strings and booleans).
 */
export function integerValue(spec: CliSpec, name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, got '${raw}'.\n${spec.usage}\n${helpPointer(spec)}`,
    );
  }
  return value;
}

/** The full `--help`: synopsis, description, options with defaults, examples, exit codes. */
export function helpText(spec: CliSpec): string {
  const rows = [...Object.entries(spec.options), ['help', HELP_OPTION] as const].map(
    ([name, option]) => [optionLabel(name, option), optionDescription(option)] as const,
  );
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    spec.usage,
    '',
    ...wrap(spec.description, HELP_WIDTH),
    '',
    'Options:',
    ...rows.flatMap(([label, description]) => hanging(`  ${label.padEnd(width)}  `, description)),
    '',
    spec.examples.length > 1 ? 'Examples:' : 'Example:',
    ...spec.examples.map((example) => `  ${example}`),
    '',
    'Exit codes:',
    ...spec.exitCodes.flatMap(([code, meaning]) => hanging(`  ${code}  `, meaning)),
    '',
  ].join('\n');
}

/** Terminals are 80 to 120 columns; 100 keeps the help readable in both without a library. */
const HELP_WIDTH = 100;

/** `text` after `prefix`, wrapped, continuation lines aligned under the text. */
function hanging(prefix: string, text: string): string[] {
  const lines = wrap(text, Math.max(40, HELP_WIDTH - prefix.length));
  return lines.map((line, i) => `${i === 0 ? prefix : ' '.repeat(prefix.length)}${line}`);
}

/** Greedy word wrap (a word longer than the width gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** The sentence that ends every usage error. */
export function helpPointer(spec: CliSpec): string {
  return `Run '${spec.command} -- --help' for every option, its default and an example.`;
}

const HELP_OPTION: CliOption = { type: 'boolean', short: 'h', description: 'Print this help and exit 0.' };

function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** The spec's options as parseArgs wants them: without the help-only fields, plus `help`. */
function parseArgsOptions(spec: CliSpec): Record<string, ParseArgsOption> {
  const options: Record<string, ParseArgsOption> = {};
  for (const [name, option] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    const { description: _d, value: _v, defaultText: _t, required: _r, ...config } = option;
    options[name] = config;
  }
  return options;
}

/**
 * parseArgs' own message for an unknown option suggests quoting it as a positional, which these
 * scripts never take: say instead which options exist.
 */
function usageError(spec: CliSpec, error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
  const what = unknown
    ? `Unknown option '${unknown}': expected one of ${Object.keys(spec.options)
        .map((name) => `--${name}`)
        .join(', ')}, --help.`
    : message;
  return new UsageError(`${what}\n${spec.usage}\n${helpPointer(spec)}`);
}

function optionLabel(name: string, option: CliOption): string {
  const value = option.type === 'string' ? ` <${option.value ?? 'value'}>` : '';
  return `${option.short ? `-${option.short}, ` : '    '}--${name}${value}`;
}

function optionDescription(option: CliOption): string {
  const shown =
    option.defaultText ??
    (option.default === undefined || option.default === false ? undefined : [option.default].flat().join(','));
  const repeat = option.multiple ? ' Repeatable.' : '';
  const suffix = option.required ? ' (required)' : shown === undefined ? '' : ` (default: ${shown})`;
  return `${option.description}${repeat}${suffix}`;
}

/** `npm run forward` → `forward`: the prefix of error lines, as the scripts already print them. */
function scriptName(spec: CliSpec): string {
  return spec.command.split(' ').pop() ?? spec.command;
}
