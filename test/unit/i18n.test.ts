// Every user-facing text exists in Dutch and English, and every key a view or factor uses exists.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCatalog, translator } from '../../src/i18n/i18n.ts';

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []));
}

describe('locale files', () => {
  const nl = loadCatalog('nl');
  const en = loadCatalog('en');

  it('have the same keys in Dutch and English', () => {
    expect([...nl.keys()].filter((k) => !en.has(k))).toEqual([]);
    expect([...en.keys()].filter((k) => !nl.has(k))).toEqual([]);
  });

  it('have no empty texts and the same placeholders in both languages', () => {
    for (const [key, text] of nl) {
      expect(text.trim(), key).not.toBe('');
      const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(vars(en.get(key) ?? ''), key).toEqual(vars(text));
    }
  });

  it('cover every literal key used in views and source', () => {
    const sources = [...filesUnder('views', '.pug'), ...filesUnder('src', '.ts')];
    const missing: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\bt\(\s*'([a-z_]+(?:\.[a-z0-9_]+)+)'/g)) {
        if (!nl.has(match[1]!)) missing.push(`${file}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('interpolates variables', () => {
    expect(translator('nl')('common.signing_in_to', { portal: 'ZINN' })).toBe('Inloggen bij ZINN');
    expect(translator('en')('common.signing_in_to', { portal: 'ZINN' })).toBe('Signing in to ZINN');
  });
});
