// How a command is declared: its options are described once and both the parser (node's
// util.parseArgs) and the --help text come from that description, so help cannot go stale.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { CliContext } from './context.ts';
import { UsageError, usageFromParseError } from './errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** May be given more than once (`--redirect-uri A --redirect-uri B`). */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `URI`. */
  value?: string;
  description: string;
  required?: boolean;
}

export interface Command {
  group: string;
  name: string;
  summary: string;
  /** Positional arguments, e.g. `['CLIENT_ID']`; all required. */
  args?: string[];
  options: Record<string, OptionSpec>;
  /** Extra help lines: notes and examples. */
  details?: string[];
  run(ctx: CliContext, args: Args): Promise<void>;
}

/** Accepted anywhere on the command line, by every command. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'machine-readable JSON on stdout (and nothing else there)' },
  help: { type: 'boolean', description: 'show this help' },
};

export const commandPath = (command: Command) => `${command.group} ${command.name}`;

type Value = string | boolean | (string | boolean)[] | undefined;

/** Parsed arguments with typed getters whose errors name the flag and point at --help. */
export class Args {
  constructor(
    private readonly command: Command,
    private readonly values: Record<string, Value>,
    readonly positionals: string[],
  ) {}

  usage(message: string): UsageError {
    return new UsageError(message, `See: poortwachter ${commandPath(this.command)} --help`);
  }

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value.trim() === '') throw this.usage(`--${name} is required`);
    return value;
  }

  strings(name: string): string[] {
    const value = this.values[name];
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
    return typeof value === 'string' ? [value] : [];
  }

  /** One of `choices`, or undefined when the flag is absent. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!choices.includes(value as T)) throw this.usage(`--${name} must be one of: ${choices.join(', ')} (got "${value}")`);
    return value as T;
  }

  /** `on`/`off` (also yes/no, true/false) as a boolean, or undefined when absent. */
  onOff(name: string): boolean | undefined {
    const value = this.string(name)?.toLowerCase();
    if (value === undefined) return undefined;
    if (['on', 'yes', 'true'].includes(value)) return true;
    if (['off', 'no', 'false'].includes(value)) return false;
    throw this.usage(`--${name} must be on or off (got "${value}")`);
  }

  /** A whole number ≥ 0, or undefined when absent. */
  count(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw this.usage(`--${name} must be a whole number (got "${value}")`);
    return Number(value);
  }
}

export function parseCommandArgs(command: Command, argv: string[]): { args: Args; json: boolean; help: boolean } {
  const specs = { ...command.options, ...GLOBAL_OPTIONS };
  const options: ParseArgsOptionsConfig = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(name === 'help' ? { short: 'h' } : {}) };
  }
  let parsed: { values: Record<string, Value>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageFromParseError(error, Object.keys(specs), `See: poortwachter ${commandPath(command)} --help`);
  }
  const args = new Args(command, parsed.values, parsed.positionals);
  const help = parsed.values.help === true;
  const json = parsed.values.json === true;
  if (!help) {
    const expected = command.args ?? [];
    if (parsed.positionals.length < expected.length) throw args.usage(`missing ${expected.slice(parsed.positionals.length).join(' ')}`);
    // Named by position, never echoed: a stray argument is often a secret typed in the wrong
    // place (a password after --password-stdin), and stderr ends up in terminals and logs.
    if (parsed.positionals.length > expected.length) {
      const takes = expected.length === 0 ? 'no arguments' : `${expected.length} (${expected.join(' ')})`;
      throw args.usage(`unexpected argument at position ${expected.length + 1}: ${commandPath(command)} takes ${takes}`);
    }
    for (const [name, spec] of Object.entries(command.options)) {
      if (spec.required && !args.has(name)) throw args.usage(`--${name} is required`);
    }
  }
  return { args, json, help };
}

export function commandHelp(command: Command): string {
  const required = Object.entries(command.options)
    .filter(([, spec]) => spec.required)
    .map(([name, spec]) => `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`);
  const synopsis = ['poortwachter', command.group, command.name, ...(command.args ?? []), ...required, '[options]'].join(' ');
  const rows = Object.entries({ ...command.options, ...GLOBAL_OPTIONS }).map(([name, spec]) => {
    const left = `${name === 'help' ? '-h, ' : ''}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    const notes = [spec.required ? 'required' : '', spec.multiple ? 'repeatable' : ''].filter(Boolean).join(', ');
    return [left, `${spec.description}${notes ? ` (${notes})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `Usage: ${synopsis}`,
    '',
    command.summary,
    '',
    'Options:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    ...(command.details?.length ? ['', ...command.details] : []),
    '',
  ].join('\n');
}
