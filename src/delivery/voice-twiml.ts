// TwiML for reading a one-time code aloud. Text-to-speech reads "482913" as a number ("four
// hundred eighty-two thousand ..."), so the code is spelled character by character with commas,
// which the speech engines render as short pauses, and said twice for people who miss it once.
import twilio from 'twilio';

export type CallLanguage = 'nl-NL' | 'en-GB';

export interface CodeCallText {
  intro: string;
  code: string;
  outro?: string;
  language: CallLanguage;
}

const CODE_REPETITIONS = 2;

export function buildCodeCallTwiml({ intro, code, outro, language }: CodeCallText): string {
  const characters = [...code.replace(/[\s-]/g, '')];
  if (characters.length === 0 || characters.some((c) => !/^[0-9A-Za-z]$/.test(c))) {
    throw new TypeError('code must consist of letters and digits');
  }
  const spelled = characters.join(', ');
  const response = new twilio.twiml.VoiceResponse();
  response.say({ language }, intro);
  for (let i = 0; i < CODE_REPETITIONS; i++) {
    response.pause({ length: 1 });
    response.say({ language }, spelled);
  }
  if (outro) {
    response.pause({ length: 1 });
    response.say({ language }, outro);
  }
  return response.toString();
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** What a listener would hear, for the dev outbox: the text of the TwiML without its markup. */
export function spokenText(twiml: string): string {
  return twiml
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity: string, name: string) => {
      if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
      if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
      return XML_ENTITIES[name.toLowerCase()] ?? entity;
    })
    .replace(/\s+/g, ' ')
    .trim();
}
