// "U heeft nog 5 herstelcodes over." with the right plural, for the page, the mail and settings.
import type { Translate } from '../../i18n/i18n.ts';

export function codesLeftText(t: Translate, left: number): string {
  const key = left === 0 ? 'recovery.left.none' : left === 1 ? 'recovery.left.one' : 'recovery.left.other';
  return t(key, { count: left });
}

/** The plain-text file behind "Download": a heading, the codes, and what they are for. */
export function recoveryFileText(t: Translate, portal: string, username: string, codes: readonly string[]): string {
  return [t('recovery.file.heading', { portal, username }), '', ...codes, '', t('recovery.file.note'), ''].join('\r\n');
}

export function downloadHref(text: string): string {
  return `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`;
}
