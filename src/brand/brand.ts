// A portal's brand: what its patients recognise on every page, mail, SMS, recovery-code file and
// authenticator entry. Read from the portal's client metadata (validated here with zod, through
// oidc-provider's `extraClientMetadata`), or, for pages reached without a portal, from the
// deployment's config (BRAND_NAME, BRAND_COLOR). Poortwachter's own name is only the small
// "beveiligd door Poortwachter" line.
import { z } from 'zod';
import { AA_CONTRAST, contrastAgainstWhite, isHexColour } from './contrast.ts';
import { isMailSender } from '../delivery/message.ts';

/** The word a portal's patients know for a one-time code; each has its nl and en wording in `brand.code_name.*`. */
export const CODE_NAMES = ['code', 'one-time-password', 'session-code', 'verification-code'] as const;
export type CodeName = (typeof CODE_NAMES)[number];

export interface Brand {
  name: string;
  /** `<sha256>.<ext>`, served at `/brand/<file>` (web/brand-routes.ts). */
  logo?: string;
  /** `#rrggbb`, at least 4.5:1 against white; served as `/brand/<rrggbb>.css`. */
  colour?: string;
  /** "Heeft u hulp nodig? ..." per language; the other language's text when one is missing. */
  supportText?: Partial<Record<'nl' | 'en', string>>;
  supportUrl?: string;
  privacyUrl?: string;
  /** The name in the authenticator app (otpauth `issuer` and label prefix). */
  totpIssuer: string;
  codeName: CodeName;
  /** The portal's own mail sender (`mail_from`, the password lifecycle's metadata), else MAIL_FROM. */
  mailFrom?: string;
  /** False for the deployment brand (the account pages, pages without a portal). */
  fromPortal: boolean;
}

export const BRAND_PROPERTIES = ['brand_logo', 'brand_color', 'support_text', 'support_url', 'totp_issuer', 'code_name'] as const;

const noControls = (max: number) => z.string().trim().min(1).max(max).regex(/^[^\p{Cc}\p{Cf}]+$/u, 'no control or direction characters');

export const LOGO_FILE = /^[0-9a-f]{64}\.(png|jpg|webp)$/;

/** A colour passes when white text on it, and it as text on white, reach WCAG AA. */
export function colourProblem(value: string): string | undefined {
  if (!isHexColour(value)) return 'brand_color must be a colour as #rrggbb, e.g. #00477f';
  const ratio = contrastAgainstWhite(value);
  if (ratio < AA_CONTRAST) return `brand_color ${value} has a contrast of ${ratio.toFixed(2)}:1 against white; WCAG AA needs at least ${AA_CONTRAST}:1 (choose a darker colour)`;
  return undefined;
}

const schemas: Record<(typeof BRAND_PROPERTIES)[number], z.ZodType> = {
  brand_logo: z.string().regex(LOGO_FILE, 'brand_logo must name a stored logo (<sha256>.png|jpg|webp); upload one with --logo'),
  brand_color: z.string().superRefine((value, ctx) => {
    const problem = colourProblem(value.toLowerCase());
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  support_text: z.strictObject({ nl: noControls(300).optional(), en: noControls(300).optional() }).refine((v) => v.nl !== undefined || v.en !== undefined, 'support_text needs a text in nl or en'),
  // Only links a patient can follow safely: no javascript:, data: or relative links.
  support_url: z.string().max(500).refine((value) => {
    try {
      return ['https:', 'mailto:', 'tel:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'support_url must be an https:, mailto: or tel: link'),
  // Not "Poortwachter:..."-style: a colon would split the otpauth label in the app.
  totp_issuer: noControls(40).refine((v) => !v.includes(':'), 'totp_issuer must not contain a colon'),
  code_name: z.enum(CODE_NAMES),
};

/** A message for an invalid brand property, or undefined when it is valid (or not one of ours). */
export function validateBrandProperty(key: string, value: unknown): string | undefined {
  if (value === undefined || !(BRAND_PROPERTIES as readonly string[]).includes(key)) return undefined;
  const result = schemas[key as (typeof BRAND_PROPERTIES)[number]].safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const message = issue?.message ?? 'invalid';
  return message.startsWith(key) ? message : `${key}: ${message}`;
}

type Metadata = Record<string, unknown>;
const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);

/** The brand of a registered portal; fields that are absent fall back to the deployment's or ours. */
export function brandFromMetadata(metadata: Metadata, name: string, fromPortal = true): Brand {
  const support = metadata.support_text;
  const supportText = support && typeof support === 'object' ? (support as Partial<Record<'nl' | 'en', string>>) : undefined;
  const codeName = CODE_NAMES.find((c) => c === metadata.code_name) ?? 'code';
  const logo = text(metadata.brand_logo);
  const colour = text(metadata.brand_color);
  return {
    name,
    ...(logo && LOGO_FILE.test(logo) ? { logo } : {}),
    ...(colour && isHexColour(colour) ? { colour: colour.toLowerCase() } : {}),
    ...(supportText ? { supportText } : {}),
    ...(text(metadata.support_url) ? { supportUrl: text(metadata.support_url) } : {}),
    ...(text(metadata.policy_uri) ? { privacyUrl: text(metadata.policy_uri) } : {}),
    totpIssuer: text(metadata.totp_issuer) ?? name,
    codeName,
    ...(text(metadata.mail_from) ? { mailFrom: text(metadata.mail_from) } : {}),
    fromPortal,
  };
}

export interface DeploymentBrand {
  name: string;
  colour?: string;
}

/** The brand of pages without a portal (the account pages opened directly, errors before a flow). */
export function deploymentBrand(config: DeploymentBrand): Brand {
  return { name: config.name, ...(config.colour ? { colour: config.colour } : {}), totpIssuer: config.name, codeName: 'code', fromPortal: false };
}

/** The support text in `lang`, else in the other language. */
export function supportTextIn(brand: Brand, lang: string): string | undefined {
  const texts = brand.supportText;
  if (!texts) return undefined;
  return lang === 'en' ? (texts.en ?? texts.nl) : (texts.nl ?? texts.en);
}

/** A file name part for the portal: `ZINN cliëntportaal` → `zinn-clientportaal`. */
export function brandSlug(brand: Brand): string {
  return brand.name.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'portaal';
}

/**
 * The From of a mail sent for the portal: its own sender (`mail_from`), else the deployment's
 * address under the portal's name (`ZINN cliëntportaal <no-reply@...>`), so the inbox names the
 * portal. Characters that could end the name or add a header are dropped.
 */
export function mailSender(brand: Brand, deploymentFrom: string): string | undefined {
  if (brand.mailFrom) return brand.mailFrom;
  const address = /<([^<>]+)>\s*$/.exec(deploymentFrom)?.[1] ?? deploymentFrom.trim();
  const name = brand.name.replace(/[\p{Cc}\p{Cf}<>",;:@\\]/gu, '').trim().slice(0, 64);
  const sender = `${name} <${address}>`;
  // Undefined (the mailer's own MAIL_FROM) when the result would not pass the delivery's check,
  // e.g. MAIL_FROM's development default `no-reply@localhost` (no dot in the domain).
  return name && isMailSender(sender) ? sender : undefined;
}
