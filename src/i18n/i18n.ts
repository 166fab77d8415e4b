// The leaf of every layer that speaks to people (pages, mail, SMS, calls): imports nothing of
// ours, so factors, actions and accounts use it without reaching into web/.
// Locale files: locales/<lang>/<namespace>.json, keys addressed as `namespace.key`. Dutch is the
// default; every key must exist in every language (test/i18n.test.ts checks it).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LANGUAGES = ['nl', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'nl';

export type Translate = (key: string, vars?: Record<string, string | number>) => string;

const LOCALES_DIR = fileURLToPath(new URL('../../locales', import.meta.url));

function flatten(prefix: string, value: unknown, out: Map<string, string>): void {
  if (typeof value === 'string') out.set(prefix, value);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) flatten(prefix ? `${prefix}.${key}` : key, child, out);
  }
}

export function loadCatalog(language: Language, dir = LOCALES_DIR): Map<string, string> {
  const out = new Map<string, string>();
  const folder = path.join(dir, language);
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
    flatten(path.basename(file, '.json'), JSON.parse(readFileSync(path.join(folder, file), 'utf8')), out);
  }
  return out;
}

const catalogs = new Map<Language, Map<string, string>>();

function catalog(language: Language): Map<string, string> {
  let found = catalogs.get(language);
  if (!found) {
    found = loadCatalog(language);
    catalogs.set(language, found);
  }
  return found;
}

export function translator(language: Language): Translate {
  const messages = catalog(language);
  const fallback = catalog(DEFAULT_LANGUAGE);
  return (key, vars) => {
    const template = messages.get(key) ?? fallback.get(key) ?? key;
    return vars ? template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : template;
  };
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** First supported language of a ui_locales / Accept-Language style list. */
export function pickLanguage(candidates: Array<string | undefined | null>): Language | undefined {
  for (const candidate of candidates) {
    if (!candidate) continue;
    for (const part of candidate.split(/[\s,]+/)) {
      const base = part.split(';')[0]?.trim().toLowerCase().split('-')[0];
      if (isLanguage(base)) return base;
    }
  }
  return undefined;
}
