// Renders docs/configuration.md from the configuration schema (src/config.ts): every variable,
// its default, what it accepts and its description. `npm run docs:config` writes the file; a test
// compares the committed file with this rendering, so the reference cannot drift from the code.
import { z } from 'zod';
import { envSchema } from '../src/config.ts';

interface JsonProperty {
  type?: string;
  enum?: string[];
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

const BOOLEAN_WORDS = ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'];

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => `\`${text}\``;

function accepted(property: JsonProperty): string {
  if (property.enum) {
    if (BOOLEAN_WORDS.every((word) => property.enum!.includes(word))) return 'boolean: `true`/`false` (or `1`/`0`, `yes`/`no`, `on`/`off`)';
    return property.enum.map(code).join(', ');
  }
  if (property.type === 'integer' || property.type === 'number') {
    const kind = property.type === 'integer' ? 'integer' : 'number';
    const min = property.minimum ?? (property.exclusiveMinimum === 0 ? 1 : property.exclusiveMinimum);
    // zod's .int() alone bounds a number by Number.MAX_SAFE_INTEGER: not a limit worth printing.
    const max = property.maximum === Number.MAX_SAFE_INTEGER ? undefined : property.maximum;
    if (min !== undefined && max !== undefined) return `${kind}, ${min} to ${max}`;
    if (min !== undefined) return `${kind}, at least ${min}`;
    return kind;
  }
  if (property.format === 'uri') return 'URL';
  return 'text';
}

function defaultOf(schema: z.ZodType): string {
  const value: unknown = schema.parse(undefined);
  if (value === undefined) return '—';
  return code(String(value));
}

export function renderConfigReference(): string {
  const json = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, JsonProperty> };
  const rows = Object.entries(envSchema.shape).map(([name, schema]) => {
    const description = schema.description;
    if (!description) throw new Error(`${name} has no description in src/config.ts (.describe())`);
    return `| ${code(name)} | ${cell(defaultOf(schema))} | ${cell(accepted(json.properties[name] ?? {}))} | ${cell(description)} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from the configuration schema in src/config.ts by `npm run docs:config`. Do not edit:',
    '     a test fails when this file differs from the schema. -->',
    '',
    'Poortwachter is configured by environment variables, validated at start: a bad or missing value',
    'stops the process with a message naming every problem at once. `npm start` and the CLI also read',
    'a file named `.env` in their working directory when there is one (variables set in the',
    'environment win); `.env.example` lists every variable. An empty value counts as not set.',
    '',
    '| Variable | Default | Accepts | Description |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
