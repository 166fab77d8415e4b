// Our own client metadata: how a portal wants its patients to sign in. Stored with the standard
// OIDC metadata, validated by oidc-provider through `extraClientMetadata`.
import { isKnownAcr } from './assurance.ts';
import { isMailSender } from '../delivery/message.ts';
import { PASSWORD_PROFILE_METADATA } from '../accounts/password-profiles.ts';
import { BRAND_PROPERTIES, brandFromMetadata, validateBrandProperty, type Brand } from '../brand/brand.ts';
import { ACCOUNT_CLIENT_ID } from './sessions.ts';
import { ADMIN_API_SCOPES } from './admin-resource.ts';

export const SECOND_FACTORS = ['sms', 'voice', 'email', 'totp', 'passkey'] as const;
export type SecondFactorId = (typeof SECOND_FACTORS)[number];

/**
 * Whether the portal accepts `factorId` as its second factor. The one place that reads
 * `mfa_methods`: the step engine, remembered devices and the session check all ask here.
 */
export function acceptsMethod(policy: PortalPolicy, factorId: string): boolean {
  return (policy.mfaMethods as readonly string[]).includes(factorId);
}

/** How the login page words its link to recovery (Flynth: forgotten or locked; MTD: forgotten or first time). */
export const RECOVERY_LABELS = ['forgot', 'forgot-or-locked', 'forgot-or-first-time'] as const;
export type RecoveryLabel = (typeof RECOVERY_LABELS)[number];

/** How a patient may prove an account in the recovery flow (flows/recovery/). */
export const RECOVERY_METHODS = ['sms', 'voice', 'email-link', 'temp-password'] as const;
export type RecoveryMethod = (typeof RECOVERY_METHODS)[number];
export const DEFAULT_RECOVERY_METHODS: readonly RecoveryMethod[] = ['email-link'];

export const POLICY_PROPERTIES = [
  'first_party',
  'mfa',
  'mfa_methods',
  'remember_device',
  'min_acr',
  'sms_sender',
  'password_profile',
  'mail_from',
  'reauth_before_enrolment',
  'recovery_codes',
  ...BRAND_PROPERTIES,
  'recovery_label',
  'recovery_methods',
  'verify_phone',
] as const;

/**
 * Properties only the admin operations write (never a registration request): a disabled switch
 * and the secret a rotation replaced, with the end of its grace (client-secrets.ts, secret-grace.ts).
 */
export const ADMIN_PROPERTIES = ['disabled', 'previous_client_secret', 'previous_client_secret_expires_at', 'admin_scopes'] as const;

/**
 * What a patient who lost a method can still reach, per accepted method: SMS and voice go to one
 * phone number (which survives a lost phone: a new SIM keeps it), e-mail codes to the mailbox, the
 * app lives on one phone. A passkey is not counted until it is a registered factor.
 */
const FALLBACK_CHANNEL: Partial<Record<SecondFactorId, string>> = { sms: 'phone number', voice: 'phone number', email: 'mailbox', totp: 'authenticator app' };

/** The distinct channels among `methods`: recovery codes may be switched off only with two or more. */
export function fallbackChannels(methods: readonly SecondFactorId[]): string[] {
  return [...new Set(methods.flatMap((m) => FALLBACK_CHANNEL[m] ?? []))];
}

function acceptedMethods(metadata: Metadata): SecondFactorId[] {
  return Array.isArray(metadata.mfa_methods)
    ? metadata.mfa_methods.filter((m): m is SecondFactorId => SECOND_FACTORS.includes(m as SecondFactorId))
    : [...SECOND_FACTORS];
}

export interface PortalPolicy {
  clientId: string;
  name: string;
  /** First-party portals skip the consent screen. */
  firstParty: boolean;
  mfa: 'required' | 'optional';
  /** Second factors this portal accepts (and offers at enrolment). */
  mfaMethods: SecondFactorId[];
  rememberDevice: boolean;
  minAcr?: string;
  /** Alphanumeric SMS sender for this portal, e.g. `ZINNZORG`. */
  smsSender?: string;
  /** The password profile its patients' passwords must meet (accounts/password-profiles.ts). */
  passwordProfile?: string;
  /** From header of the mails sent for this portal, e.g. `Mijn Therapie Dossier <no-reply@...>`. */
  mailFrom?: string;
  /** Where "back to the portal" links go. */
  homeUrl?: string;
  /** Name, logo, colour, support and privacy links, authenticator issuer, the word for a code. */
  brand: Brand;
  /** Ask the password again before the first second factor is set up (Minddistrict; default on). */
  reauthBeforeEnrolment: boolean;
  /** Show recovery codes after the first second factor (default on; off only with another fallback). */
  recoveryCodes: boolean;
  /** The wording of the login page's link to recovery. */
  recoveryLabel: RecoveryLabel;
  /** How its patients may prove their account in the recovery flow, in the order offered. */
  recoveryMethods: RecoveryMethod[];
  /** An activation verifies the account's phone number by an SMS code first (Mijn Therapie Dossier). */
  verifyPhone: boolean;
  /** OIDC third-party initiated login (`initiate_login_uri`): where an activation hands the patient over. */
  initiateLoginUri?: string;
}

type Metadata = Record<string, unknown>;

export function policyFromMetadata(metadata: Metadata): PortalPolicy {
  const methods = acceptedMethods(metadata);
  const name = typeof metadata.client_name === 'string' ? metadata.client_name : String(metadata.client_id);
  const redirectUris = Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : [];
  const firstRedirect = typeof redirectUris[0] === 'string' ? redirectUris[0] : undefined;
  return {
    clientId: String(metadata.client_id),
    name,
    firstParty: metadata.first_party === true,
    mfa: metadata.mfa === 'required' ? 'required' : 'optional',
    mfaMethods: methods,
    rememberDevice: metadata.remember_device !== false,
    minAcr: typeof metadata.min_acr === 'string' ? metadata.min_acr : undefined,
    smsSender: typeof metadata.sms_sender === 'string' ? metadata.sms_sender : undefined,
    passwordProfile: typeof metadata[PASSWORD_PROFILE_METADATA] === 'string' ? metadata[PASSWORD_PROFILE_METADATA] : undefined,
    mailFrom: typeof metadata.mail_from === 'string' ? metadata.mail_from : undefined,
    recoveryLabel: RECOVERY_LABELS.includes(metadata.recovery_label as RecoveryLabel) ? (metadata.recovery_label as RecoveryLabel) : 'forgot',
    recoveryMethods: Array.isArray(metadata.recovery_methods) && metadata.recovery_methods.length
      ? metadata.recovery_methods.filter((m): m is RecoveryMethod => RECOVERY_METHODS.includes(m as RecoveryMethod))
      : [...DEFAULT_RECOVERY_METHODS],
    homeUrl: typeof metadata.client_uri === 'string' ? metadata.client_uri : firstRedirect ? new URL(firstRedirect).origin : undefined,
    // The account pages' own client carries the deployment brand (sessions.ts), not a portal's.
    brand: brandFromMetadata(metadata, name, metadata.client_id !== ACCOUNT_CLIENT_ID),
    reauthBeforeEnrolment: metadata.reauth_before_enrolment !== false,
    recoveryCodes: metadata.recovery_codes !== false,
    verifyPhone: metadata.verify_phone === true,
    initiateLoginUri: typeof metadata.initiate_login_uri === 'string' ? metadata.initiate_login_uri : undefined,
  };
}

/**
 * Returns a message for the first invalid property, or undefined when all are valid. `metadata`
 * (the whole registration) is for rules between properties.
 */
export function validatePolicyProperty(key: string, value: unknown, metadata: Metadata = {}): string | undefined {
  if (value === undefined) return undefined;
  switch (key) {
    case 'recovery_codes': {
      if (typeof value !== 'boolean') return 'recovery_codes must be a boolean';
      const channels = fallbackChannels(acceptedMethods(metadata));
      if (value || channels.length >= 2) return undefined;
      return `recovery codes can be switched off only when the portal accepts methods on two channels (phone number: sms/voice; mailbox: email; authenticator app: totp), so a patient who loses one still has another; this portal accepts ${channels.join(', ') || 'none'}`;
    }
    case 'first_party':
    case 'verify_phone':
    case 'reauth_before_enrolment':
    case 'remember_device':
      return typeof value === 'boolean' ? undefined : `${key} must be a boolean`;
    case 'mfa':
      return value === 'required' || value === 'optional' ? undefined : 'mfa must be "required" or "optional"';
    case 'mfa_methods':
      return Array.isArray(value) && value.length > 0 && value.every((m) => SECOND_FACTORS.includes(m as SecondFactorId))
        ? undefined
        : `mfa_methods must be a non-empty list of ${SECOND_FACTORS.join(', ')}`;
    case 'min_acr':
      return typeof value === 'string' && isKnownAcr(value) ? undefined : 'min_acr must be a known acr value';
    case 'sms_sender':
      // Alphanumeric sender ids: 1-11 characters, letters/digits/space, at least one letter.
      return typeof value === 'string' && /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(value) ? undefined : 'sms_sender must be 1-11 letters or digits';
    case 'password_profile':
      // Whether the profile exists is the registry's check (it needs the store); this is the shape.
      return typeof value === 'string' && /^[a-z0-9][a-z0-9-]{0,39}$/.test(value) ? undefined : 'password_profile must name a password profile (lower-case letters, digits, -)';
    case 'mail_from':
      return typeof value === 'string' && isMailSender(value) ? undefined : 'mail_from must be one e-mail address, optionally with a name: Name <no-reply@example.nl>';
    case 'recovery_label':
      return RECOVERY_LABELS.includes(value as RecoveryLabel) ? undefined : `recovery_label must be one of ${RECOVERY_LABELS.join(', ')}`;
    case 'recovery_methods':
      return Array.isArray(value) && value.length > 0 && value.every((m) => RECOVERY_METHODS.includes(m as RecoveryMethod))
        ? undefined
        : `recovery_methods must be a non-empty list of ${RECOVERY_METHODS.join(', ')}`;
    case 'disabled':
      return typeof value === 'boolean' ? undefined : 'disabled must be a boolean';
    case 'admin_scopes':
      return Array.isArray(value) && value.length > 0 && value.every((v) => (ADMIN_API_SCOPES as readonly unknown[]).includes(v))
        ? undefined
        : `admin_scopes must list ${ADMIN_API_SCOPES.join(', ')}`;
    case 'previous_client_secret':
      return typeof value === 'string' && value.length >= 32 ? undefined : 'previous_client_secret must be a secret';
    case 'previous_client_secret_expires_at':
      return Number.isInteger(value) ? undefined : 'previous_client_secret_expires_at must be epoch seconds';
    default:
      return validateBrandProperty(key, value);
  }
}
