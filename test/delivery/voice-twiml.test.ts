import { describe, expect, it } from 'vitest';
import { buildCodeCallTwiml, spokenText } from '../../src/delivery/voice-twiml.ts';

describe('buildCodeCallTwiml', () => {
  it('says the intro, then the code digit by digit twice, then the outro, all in one language', () => {
    const twiml = buildCodeCallTwiml({ intro: 'Uw code is', code: '482913', outro: 'Tot ziens.', language: 'nl-NL' });
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Say language="nl-NL">Uw code is</Say>' +
        '<Pause length="1"/><Say language="nl-NL">4, 8, 2, 9, 1, 3</Say>' +
        '<Pause length="1"/><Say language="nl-NL">4, 8, 2, 9, 1, 3</Say>' +
        '<Pause length="1"/><Say language="nl-NL">Tot ziens.</Say>' +
        '</Response>',
    );
  });

  it('leaves out the outro when none is given and honours en-GB', () => {
    const twiml = buildCodeCallTwiml({ intro: 'Your code is', code: '12 34', language: 'en-GB' });
    expect(twiml).not.toContain('nl-NL');
    expect(twiml.match(/<Say language="en-GB">1, 2, 3, 4<\/Say>/g)).toHaveLength(2);
    expect(twiml.match(/<Say /g)).toHaveLength(3);
  });

  it('escapes text so localised strings cannot inject TwiML', () => {
    const twiml = buildCodeCallTwiml({ intro: 'A & B <Hangup/>', code: '1', language: 'nl-NL' });
    expect(twiml).toContain('A &amp; B &lt;Hangup/&gt;');
    expect(twiml).not.toContain('<Hangup/>');
  });

  it('refuses a code that cannot be spelled', () => {
    expect(() => buildCodeCallTwiml({ intro: 'x', code: '', language: 'nl-NL' })).toThrow(TypeError);
    expect(() => buildCodeCallTwiml({ intro: 'x', code: '12<3', language: 'nl-NL' })).toThrow(TypeError);
  });
});

describe('spokenText', () => {
  it('returns what a listener hears, without markup and with entities decoded', () => {
    const twiml = buildCodeCallTwiml({ intro: 'Code voor "Piet" & co', code: '12', language: 'nl-NL' });
    expect(spokenText(twiml)).toBe('Code voor "Piet" & co 1, 2 1, 2');
    expect(spokenText('<Response><Say>&lt;tag&gt; &#65;&#x42;</Say></Response>')).toBe('<tag> AB');
  });
});
