// The brand and switch options of `client add|update`: what patients of a portal see (name,
// logo, colour, support and privacy links, authenticator name, the word for a code) and the
// steps some portals' patients do not expect. Everything is checked before anything is stored:
// a refused logo or colour leaves the store as it was.
import { open } from 'node:fs/promises';
import { CODE_NAMES, colourProblem, validateBrandProperty } from '../../brand/brand.ts';
import { LOGO_MAX_BYTES, logoProblemText } from '../../brand/logo-image.ts';
import { Logos } from '../../brand/logos.ts';
import { policyFromMetadata } from '../../oidc/client-policy.ts';
import type { Args, OptionSpec } from './command.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';

export const BRAND_OPTIONS: Record<string, OptionSpec> = {
  logo: { type: 'string', value: 'FILE', description: `logo as PNG, JPEG or WebP (judged by its contents), at most ${LOGO_MAX_BYTES / 1024} kB; SVG is refused` },
  color: { type: 'string', value: '#RRGGBB', description: 'primary colour of buttons, links and the header; needs WCAG AA contrast (4.5:1) against white' },
  'support-text': { type: 'string', value: 'TEXT', description: 'help line in Dutch, e.g. "Heeft u hulp nodig? Neem contact op met uw behandelaar."' },
  'support-text-en': { type: 'string', value: 'TEXT', description: 'the same help line in English (without it, the Dutch text is shown)' },
  'support-url': { type: 'string', value: 'URL', description: 'where the help line links to: an https:, mailto: or tel: link' },
  'privacy-url': { type: 'string', value: 'URL', description: 'the portal\'s privacy statement (standard metadata policy_uri)' },
  'totp-issuer': { type: 'string', value: 'NAME', description: 'name of the entry in the authenticator app, e.g. ZINN (default: the portal name)' },
  'code-name': { type: 'string', value: CODE_NAMES.join('|'), description: 'the word patients know for a one-time code (default code)' },
  'reauth-before-enrolment': { type: 'string', value: 'on|off', description: 'ask the password again before the first second factor is set up (default on)' },
  'recovery-codes': { type: 'string', value: 'on|off', description: 'show recovery codes after the first second factor (default on; off only when the portal accepts methods on two channels)' },
};

/** A refused brand value is a refusal (exit 1), named by its flag. */
function check(flag: string, key: string, value: unknown): void {
  const problem = key === 'brand_color' && typeof value === 'string' ? colourProblem(value.toLowerCase()) : validateBrandProperty(key, value);
  if (problem) throw new CliError(`--${flag}: ${problem.replace(/^brand_color |^[a-z_]+: /, '')}`);
}

/**
 * The metadata changes the brand options ask for; `none` removes a setting (update). The logo is
 * read and checked here but stored only by `storeLogo`, after everything else passed.
 */
export async function brandChanges(args: Args, existing: Record<string, unknown> = {}): Promise<{ changes: Record<string, unknown>; logo?: Buffer }> {
  const changes: Record<string, unknown> = {};
  const simple: Array<[string, string, (value: string) => unknown]> = [
    ['color', 'brand_color', (v) => v.toLowerCase()],
    ['support-url', 'support_url', (v) => v],
    ['privacy-url', 'policy_uri', (v) => v],
    ['totp-issuer', 'totp_issuer', (v) => v],
  ];
  for (const [flag, key, convert] of simple) {
    const value = args.string(flag);
    if (value === undefined) continue;
    changes[key] = value === 'none' ? undefined : convert(value);
    if (changes[key] !== undefined && key !== 'policy_uri') check(flag, key, changes[key]);
  }
  const codeName = args.string('code-name');
  if (codeName !== undefined) changes.code_name = codeName === 'code' ? undefined : args.choice('code-name', CODE_NAMES);
  if (args.has('support-text') || args.has('support-text-en')) {
    const current = existing.support_text && typeof existing.support_text === 'object' ? (existing.support_text as Record<string, string>) : {};
    const next: Record<string, string> = { ...current };
    for (const [flag, lang] of [['support-text', 'nl'], ['support-text-en', 'en']] as const) {
      const value = args.string(flag);
      if (value === 'none') delete next[lang];
      else if (value !== undefined) next[lang] = value.trim();
    }
    changes.support_text = Object.keys(next).length ? next : undefined;
    if (changes.support_text) check('support-text', 'support_text', changes.support_text);
  }
  const reauth = args.onOff('reauth-before-enrolment');
  if (reauth !== undefined) changes.reauth_before_enrolment = reauth ? undefined : false;
  const recovery = args.onOff('recovery-codes');
  if (recovery !== undefined) changes.recovery_codes = recovery ? undefined : false;

  const logoPath = args.string('logo');
  if (logoPath === undefined) return { changes };
  if (logoPath === 'none') return { changes: { ...changes, brand_logo: undefined } };
  const logo = await readLogo(logoPath);
  const inspection = Logos.inspect(logo);
  if (!inspection.ok) throw new CliError(`--logo: ${logoProblemText(inspection.problem)}; nothing was changed`);
  return { changes: { ...changes, brand_logo: inspection.file }, logo };
}

/** Reads at most one byte more than allowed: a huge file is refused without reading it whole. */
async function readLogo(file: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    throw new CliError(`--logo: cannot read ${file}`);
  }
  try {
    const buffer = Buffer.alloc(LOGO_MAX_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Stores the logo, runs `change` (the registry write, which validates the whole metadata), and
 * takes a logo it created back out when that write is refused; a logo the portal no longer names
 * goes when no other portal names it.
 */
export async function withLogo<T>(ctx: CliContext, logo: Buffer | undefined, previous: unknown, change: () => Promise<T>): Promise<T> {
  const logos = new Logos((await ctx.services()).store);
  const saved = logo ? await logos.save(logo) : undefined;
  let result: T;
  try {
    result = await change();
  } catch (error) {
    if (saved?.created) await logos.removeUnused(saved.file);
    throw error;
  }
  if (typeof previous === 'string' && previous !== saved?.file) await logos.removeUnused(previous);
  return result;
}

/** The brand and switch lines of `client show|add|update`. */
export function describeBrand(metadata: Record<string, unknown>): string[] {
  const policy = policyFromMetadata(metadata);
  const { brand } = policy;
  const support = brand.supportText ? [brand.supportText.nl && `nl: ${brand.supportText.nl}`, brand.supportText.en && `en: ${brand.supportText.en}`].filter(Boolean).join(' | ') : '-';
  return [
    `  logo:                ${brand.logo ? `/brand/${brand.logo}` : '-'}`,
    `  colour:              ${brand.colour ?? '- (Poortwachter blue)'}`,
    `  support text:        ${support}`,
    `  support link:        ${brand.supportUrl ?? '-'}`,
    `  privacy link:        ${brand.privacyUrl ?? '-'}`,
    `  authenticator name:  ${brand.totpIssuer}`,
    `  word for a code:     ${brand.codeName}`,
    `  mail sender:         ${brand.mailFrom ?? '- (MAIL_FROM)'}`,
    `  consent page:        ${policy.firstParty ? 'skipped (first party)' : 'shown (third party)'}`,
    `  password before first 2FA set-up: ${policy.reauthBeforeEnrolment ? 'on' : 'off'}`,
    `  recovery codes after set-up:      ${policy.recoveryCodes ? 'on' : 'off'}`,
  ];
}
