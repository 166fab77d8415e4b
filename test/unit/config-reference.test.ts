// The configuration reference cannot drift: docs/configuration.md must be what `npm run
// docs:config` generates from the schema, every variable must be described, and .env.example
// must name exactly the schema's variables (set or commented out).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../src/config.ts';
import { renderConfigReference } from '../../scripts/config-reference.ts';

const variables = Object.keys(envSchema.shape);

describe('configuration reference', () => {
  it('describes every variable of the schema', () => {
    const undescribed = Object.entries(envSchema.shape).filter(([, schema]) => !schema.description).map(([name]) => name);
    expect(undescribed).toEqual([]);
  });

  it('docs/configuration.md is generated from the schema (run `npm run docs:config` after changing src/config.ts)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(renderConfigReference());
    for (const name of variables) expect(renderConfigReference()).toContain(`| \`${name}\` |`);
  });

  it('.env.example names exactly the variables of the schema', () => {
    const named = [...readFileSync('.env.example', 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(new Set(named).size, 'a variable is named twice').toBe(named.length);
    expect([...named].sort()).toEqual([...variables].sort());
  });
});
