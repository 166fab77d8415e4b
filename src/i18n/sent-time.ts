// "Verstuurd om 11:50": the time a code was sent, as the patient's clock shows it. Patients
// compare it with the time on the message (the patient-portal "sessiecode" instructions rely on
// that), so it is always Dutch local time, whatever the server's time zone.
import type { Language } from './i18n.ts';

const ZONE = 'Europe/Amsterdam';
const formats = new Map<Language, Intl.DateTimeFormat>();

export function formatSentTime(at: number, lang: Language): string {
  let format = formats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(lang, format);
  }
  return format.format(at);
}
