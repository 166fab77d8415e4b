import { describe, expect, it } from 'vitest';
import { isE164, normalisePhone } from '../../src/delivery/phone.ts';

describe('normalisePhone', () => {
  it.each([
    ['06 12345678', '+31612345678'],
    ['06-12345678', '+31612345678'],
    ['(06) 1234 5678', '+31612345678'],
    ['+31 6 1234 5678', '+31612345678'],
    ['0031612345678', '+31612345678'],
    ['  +31612345678 ', '+31612345678'],
  ])('reads Dutch mobile number %j as %s', (input, e164) => {
    expect(normalisePhone(input)).toEqual({ e164, lastTwo: '78', isMobile: true, personal: true });
  });

  it('accepts fixed lines but marks them as not mobile', () => {
    expect(normalisePhone('020 123 4567')).toEqual({ e164: '+31201234567', lastTwo: '67', isMobile: false, personal: true });
  });

  it.each([
    ['Dutch premium rate 0906', '0906 1234567'],
    ['Dutch premium rate 0909', '0909 1234567'],
    ['Dutch premium rate 0900', '0900 1234567'],
    ['British premium rate +44 909', '+44 909 8790000'],
    ['British shared cost +44 845', '+44 845 4647'],
    ['Dutch toll-free 0800', '0800 0222'],
    ['British toll-free', '+44 800 123 4567'],
    ['Dutch company number 088 (UAN)', '088 123 4567'],
    ['Dutch 084 forwarding number', '084 1234567'],
    ['British personal number +44 70', '+44 70 1234 5678'],
    ['Dutch pager 066', '066 1234567'],
    ['American premium rate', '+1 900 555 1234'],
  ])('marks %s (%j) as valid but not a personal phone', (_why, input) => {
    expect(normalisePhone(input)).toMatchObject({ personal: false });
  });

  it('accepts mobile, fixed line and VoIP numbers as personal phones', () => {
    expect(normalisePhone('06 12345678')?.personal).toBe(true);
    expect(normalisePhone('020 123 4567')?.personal).toBe(true);
    expect(normalisePhone('085 123 4567')).toMatchObject({ personal: true, isMobile: false });
    expect(normalisePhone('+44 7400 123456')?.personal).toBe(true);
  });

  it('uses the default country only for national notation', () => {
    expect(normalisePhone('+49 151 23456789')).toMatchObject({ e164: '+4915123456789', isMobile: true });
    expect(normalisePhone('0151 23456789', 'DE')).toMatchObject({ e164: '+4915123456789' });
    expect(normalisePhone('07400 123456', 'GB')).toMatchObject({ e164: '+447400123456', isMobile: true });
  });

  it.each([
    ['letters', '06 1234567a'],
    ['vanity letters', '1-800-FLOWERS'],
    ['text around a number', 'bel 06 12345678'],
    ['too short', '06 1234567'],
    ['too long', '06 123456789'],
    ['digits of no existing number', '+31 6 00000000'],
    ['unknown country code', '+999 1234 5678'],
    ['empty', ''],
    ['only a plus', '+'],
    ['absurdly long', `+31${'6'.repeat(40)}`],
  ])('rejects %s (%j)', (_why, input) => {
    expect(normalisePhone(input)).toBeUndefined();
  });
});

describe('isE164', () => {
  it('accepts only the canonical form', () => {
    expect(isE164('+31612345678')).toBe(true);
    expect(isE164('31612345678')).toBe(false);
    expect(isE164('+31 6 12345678')).toBe(false);
    expect(isE164('+0612345678')).toBe(false);
    expect(isE164('ZINNZORG')).toBe(false);
  });
});
