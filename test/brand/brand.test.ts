// The brand rules that need no server: WCAG contrast, the logo check by magic bytes and size,
// and the brand metadata's validation.
import { describe, expect, it } from 'vitest';
import { contrastAgainstWhite, contrastRatio } from '../../src/brand/contrast.ts';
import { inspectLogo, LOGO_MAX_BYTES } from '../../src/brand/logo-image.ts';
import { brandFromMetadata, colourProblem, mailSender, validateBrandProperty } from '../../src/brand/brand.ts';
import { fallbackChannels, validatePolicyProperty } from '../../src/oidc/client-policy.ts';
import { jpegHeader, png, SVG_WITH_SCRIPT, webpHeader } from '../support/logo-bytes.ts';

describe('WCAG contrast', () => {
  it('computes the ratios of the WCAG formula', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // Known values (WebAIM's checker): #767676 is the lightest grey passing AA on white.
    expect(contrastAgainstWhite('#767676')).toBeCloseTo(4.54, 2);
    expect(contrastAgainstWhite('#777777')).toBeCloseTo(4.48, 2);
    expect(contrastAgainstWhite('#00477f')).toBeGreaterThan(9);
  });

  it('refuses a colour below 4.5:1 against white and malformed colours', () => {
    expect(colourProblem('#767676')).toBeUndefined();
    expect(colourProblem('#777777')).toMatch(/4\.48:1 against white; WCAG AA needs at least 4\.5:1/);
    expect(colourProblem('#ffcc00')).toMatch(/contrast/);
    expect(colourProblem('red')).toMatch(/#rrggbb/);
    expect(colourProblem('#00477f80')).toMatch(/#rrggbb/);
  });
});

describe('logo check', () => {
  it('knows PNG, JPEG and WebP by their bytes and reads their size', () => {
    expect(inspectLogo(png(120, 40))).toMatchObject({ ok: true, mediaType: 'image/png', ext: 'png', width: 120, height: 40 });
    expect(inspectLogo(jpegHeader(300, 100))).toMatchObject({ ok: true, mediaType: 'image/jpeg', ext: 'jpg', width: 300, height: 100 });
    expect(inspectLogo(webpHeader(256, 64))).toMatchObject({ ok: true, mediaType: 'image/webp', ext: 'webp', width: 256, height: 64 });
  });

  it('refuses SVG (also one with a script), other files, oversized files and silly sizes', () => {
    expect(inspectLogo(SVG_WITH_SCRIPT)).toEqual({ ok: false, problem: 'svg' });
    expect(inspectLogo(Buffer.from('<html><script>alert(1)</script></html>'))).toEqual({ ok: false, problem: 'not-an-image' });
    expect(inspectLogo(Buffer.from('GIF89a....'))).toEqual({ ok: false, problem: 'not-an-image' });
    expect(inspectLogo(Buffer.alloc(0))).toEqual({ ok: false, problem: 'empty' });
    expect(inspectLogo(Buffer.concat([png(20, 20), Buffer.alloc(LOGO_MAX_BYTES)]))).toEqual({ ok: false, problem: 'too-large' });
    expect(inspectLogo(png(8, 8))).toEqual({ ok: false, problem: 'dimensions' });
    expect(inspectLogo(jpegHeader(5000, 100))).toEqual({ ok: false, problem: 'dimensions' });
    expect(inspectLogo(png(20, 20).subarray(0, 12))).toEqual({ ok: false, problem: 'unreadable' });
  });
});

describe('brand metadata', () => {
  it('validates each property', () => {
    expect(validateBrandProperty('brand_color', '#00477f')).toBeUndefined();
    expect(validateBrandProperty('brand_color', '#ffff00')).toMatch(/contrast/);
    expect(validateBrandProperty('support_url', 'javascript:alert(1)')).toMatch(/https:, mailto: or tel:/);
    expect(validateBrandProperty('support_url', 'mailto:zorg@example.nl')).toBeUndefined();
    expect(validateBrandProperty('totp_issuer', 'ZINN:x')).toMatch(/colon/);
    expect(validateBrandProperty('code_name', 'session-code')).toBeUndefined();
    expect(validateBrandProperty('code_name', 'wachtwoordje')).toMatch(/code_name/);
    expect(validateBrandProperty('support_text', { nl: 'Bel uw behandelaar' })).toBeUndefined();
    expect(validateBrandProperty('support_text', { de: 'Hilfe' })).toBeDefined();
    expect(validateBrandProperty('brand_logo', '../../etc/passwd')).toMatch(/brand_logo/);
  });

  it('reads a brand with fallbacks: issuer = name, code = "code"', () => {
    const brand = brandFromMetadata({ client_id: 'x', brand_color: '#00477F', policy_uri: 'https://zinn.example/privacy', mail_from: 'ZINN <no-reply@zinn.example>' }, 'ZINN');
    expect(brand).toMatchObject({ name: 'ZINN', colour: '#00477f', totpIssuer: 'ZINN', codeName: 'code', privacyUrl: 'https://zinn.example/privacy', mailFrom: 'ZINN <no-reply@zinn.example>', fromPortal: true });
  });

  it('allows recovery codes off only with a fallback on a second channel', () => {
    expect(fallbackChannels(['sms', 'voice'])).toEqual(['phone number']);
    expect(validatePolicyProperty('recovery_codes', false, { mfa_methods: ['sms', 'voice'] })).toMatch(/accepts phone number$/);
    expect(validatePolicyProperty('recovery_codes', false, { mfa_methods: ['totp', 'passkey'] })).toMatch(/accepts authenticator app$/);
    expect(validatePolicyProperty('recovery_codes', false, { mfa_methods: ['sms', 'totp'] })).toBeUndefined();
    expect(validatePolicyProperty('recovery_codes', false, {})).toBeUndefined();
    expect(validatePolicyProperty('recovery_codes', true, { mfa_methods: ['totp'] })).toBeUndefined();
  });
});

describe('mail sender', () => {
  const brand = brandFromMetadata({ client_id: 'z' }, 'ZINN cliëntportaal');
  it('is the deployment address under the portal name, or the portal\'s own mail_from', () => {
    expect(mailSender(brand, 'Poortwachter <no-reply@poortwachter.nl>')).toBe('ZINN cliëntportaal <no-reply@poortwachter.nl>');
    expect(mailSender(brandFromMetadata({ client_id: 'z', mail_from: 'MTD <no-reply@mtd.example>' }, 'MTD'), 'x@y.nl')).toBe('MTD <no-reply@mtd.example>');
    expect(mailSender(brandFromMetadata({ client_id: 'z' }, 'A "quoted" <name>'), 'no-reply@poortwachter.nl')).toBe('A quoted name <no-reply@poortwachter.nl>');
  });

  it('leaves the sender to MAIL_FROM when the result would be refused by the mailer (no-reply@localhost)', () => {
    expect(mailSender(brand, 'Poortwachter <no-reply@localhost>')).toBeUndefined();
  });
});
