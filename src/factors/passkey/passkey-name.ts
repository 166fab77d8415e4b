// The name a patient gives a passkey ("iPhone van Pat"), shown in the account's list. It is
// trimmed, its white space collapsed, and control and format characters removed: a right-to-left
// override could make one entry in the list look like another. Without a name, the browser and
// system the passkey was made on give one ("Safari op iPhone").
import type { Translate } from '../../i18n/i18n.ts';

/** In characters (code points), after cleaning. Long enough for "Werklaptop van Pat (Windows)". */
export const PASSKEY_NAME_MAX = 50;

export type PasskeyNameCheck = { ok: true; name: string | undefined } | { ok: false; reason: 'too-long' };

/** The cleaned name; `undefined` when nothing is left (the caller then uses the default). */
export function normalisePasskeyName(input: string | undefined): PasskeyNameCheck {
  const cleaned = (input ?? '')
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  if ([...cleaned].length > PASSKEY_NAME_MAX) return { ok: false, reason: 'too-long' };
  return { ok: true, name: cleaned || undefined };
}

// Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
const BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(Chrome|Chromium|CriOS)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

const SYSTEMS: ReadonlyArray<[RegExp, string]> = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'Mac'],
  [/\bWindows\b/, 'Windows'],
  [/\bLinux\b/, 'Linux'],
];

const first = (list: ReadonlyArray<[RegExp, string]>, text: string) => list.find(([pattern]) => pattern.test(text))?.[1];

/** "Safari op iPhone", "Passkey op Windows" or "Passkey", in the page language. */
export function defaultPasskeyName(userAgent: string | null | undefined, t: Translate): string {
  const ua = (userAgent ?? '').slice(0, 512);
  const browser = first(BROWSERS, ua);
  const system = first(SYSTEMS, ua);
  if (browser && system) return t('passkey.name.default_browser_system', { browser, system });
  if (system) return t('passkey.name.default_system', { system });
  return t('passkey.name.default');
}
