// The admin operations' input (and output) shapes. The same zod schemas validate what the API,
// the console and the CLI hand in and are the source of the OpenAPI document (api/openapi.ts):
// there is no second, hand-kept description that could drift. Objects are strict: an unknown
// field is refused, not ignored (a typo must not silently leave a setting as it was).
import { z } from 'zod';
import { RECOVERY_LABELS, RECOVERY_METHODS, SECOND_FACTORS } from '../../oidc/client-policy.ts';
import { ACR_VALUES } from '../../oidc/assurance.ts';
import { CODE_NAMES } from '../../brand/brand.ts';
import { ADMIN_SCOPES } from './actor.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const url = z.string().max(500).refine((value) => URL.canParse(value), 'must be an absolute URL');
const identifier = z.string().regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, '3-64 lower-case letters, digits, . _ -');
const organisationId = z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, '2-64 lower-case letters, digits and -');
const acr = z.enum([...ACR_VALUES.map((value) => value.replace('urn:poortwachter:acr:', '')), ...ACR_VALUES] as [string, ...string[]]);

/** Sign-in policy and brand of a portal: what `client add|update` sets besides the protocol fields. */
const portalSettings = {
  client_name: text(100).describe('Name shown to patients.'),
  redirect_uris: z.array(url).min(1).max(20).describe('Exact callback URLs.'),
  post_logout_redirect_uris: z.array(url).max(20),
  backchannel_logout_uri: url,
  first_party: z.boolean().describe('Our own portal: no consent screen.'),
  client_credentials: z.boolean().describe('Also allow the client_credentials grant (confidential portals).'),
  mfa: z.enum(['required', 'optional']),
  mfa_methods: z.array(z.enum(SECOND_FACTORS)).min(1),
  min_acr: acr.describe('Level every login must reach.'),
  remember_device: z.boolean(),
  password_profile: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/),
  recovery_codes: z.boolean(),
  reauth_before_enrolment: z.boolean(),
  sms_sender: z.string().regex(/^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/, '1-11 letters or digits'),
  mail_from: text(200),
  recovery_label: z.enum(RECOVERY_LABELS).describe('Wording of the login page\'s recovery link.'),
  recovery_methods: z.array(z.enum(RECOVERY_METHODS)).min(1).describe('How patients prove their account when recovering, in the order offered.'),
  verify_phone: z.boolean().describe('An activation verifies the account\'s phone number by an SMS code first.'),
  initiate_login_uri: url.describe('OIDC third-party initiated login (https): where an activation hands the patient over to the portal.'),
  brand_color: z.string().regex(/^#[0-9a-fA-F]{6}$/, '#rrggbb'),
  brand_logo: z.string().regex(/^[0-9a-f]{64}\.(png|jpg|webp)$/, 'a stored logo: <sha256>.png|jpg|webp'),
  support_text: z.strictObject({ nl: text(300).optional(), en: text(300).optional() }),
  support_url: url,
  policy_uri: url,
  totp_issuer: text(40),
  code_name: z.enum(CODE_NAMES),
  organisations: z.array(organisationId).max(20).describe('Organisations the portal belongs to.'),
};

type Settings = typeof portalSettings;
const optionalSettings = Object.fromEntries(Object.entries(portalSettings).map(([key, schema]) => [key, schema.optional()])) as {
  [K in keyof Settings]: z.ZodOptional<Settings[K]>;
};

export const PortalCreate = z.strictObject({
  client_id: identifier.optional().describe('Chosen id (default: from the name plus random digits).'),
  type: z.enum(['confidential', 'public', 'service']).default('confidential')
    .describe('`service`: a machine client with the client_credentials grant only (e.g. for this API), with `scopes`.'),
  scopes: z.array(z.enum(ADMIN_SCOPES)).min(1).optional().describe('Admin API scopes of a `service` client.'),
  ...optionalSettings,
  client_name: portalSettings.client_name,
}).meta({ id: 'PortalCreate' });
export type PortalCreate = z.infer<typeof PortalCreate>;

/** Every field optional; `null` removes a setting (back to its default). */
export const PortalUpdate = z.strictObject(
  Object.fromEntries(Object.entries(portalSettings).map(([key, schema]) => [key, key === 'client_name' || key === 'redirect_uris' ? schema.optional() : schema.nullable().optional()])) as {
    [K in keyof typeof portalSettings]: K extends 'client_name' | 'redirect_uris'
      ? z.ZodOptional<(typeof portalSettings)[K]>
      : z.ZodOptional<z.ZodNullable<(typeof portalSettings)[K]>>;
  },
).meta({ id: 'PortalUpdate' });
export type PortalUpdate = z.infer<typeof PortalUpdate>;

const phone = z.string().trim().max(30).describe('Mobile number, e.g. 06 12345678 or +31612345678.');
const name = z.string().trim().max(100);

export const AccountCreate = z.strictObject({
  username: z.string().trim().regex(/^[\p{L}\p{N}._@+-]{3,64}$/u, '3-64 letters, digits or . _ @ + -'),
  email: z.email({ error: 'not a valid e-mail address' }).max(254),
  phone: phone.optional(),
  given_name: name.optional(),
  family_name: name.optional(),
  locale: z.enum(['nl', 'en']).default('nl'),
  organisations: z.array(organisationId).max(20).optional(),
}).meta({ id: 'AccountCreate' });
export type AccountCreate = z.infer<typeof AccountCreate>;

export const AccountUpdate = z.strictObject({
  email: z.email({ error: 'not a valid e-mail address' }).max(254).optional(),
  phone: phone.nullable().optional(),
  given_name: name.nullable().optional(),
  family_name: name.nullable().optional(),
  locale: z.enum(['nl', 'en']).optional(),
  organisations: z.array(organisationId).max(20).optional(),
}).meta({ id: 'AccountUpdate' });
export type AccountUpdate = z.infer<typeof AccountUpdate>;

/** The portal a mail is for (its name, sender and login address); optional. */
export const PortalChoice = z.strictObject({ client_id: z.string().max(64).optional() }).meta({ id: 'PortalChoice' });
export type PortalChoice = z.infer<typeof PortalChoice>;

export const Empty = z.strictObject({}).meta({ id: 'Empty' });

const limit = z.coerce.number().int().min(1).max(200).default(50);
const cursor = z.string().max(1000).describe('Opaque; from `next_cursor` of the previous page.');
const time = z.iso.datetime({ offset: true });

export const AccountQuery = z.strictObject({
  q: z.string().trim().max(100).optional().describe('Part of the username, e-mail address or name.'),
  organisation: organisationId.optional(),
  cursor: cursor.optional(),
  limit,
}).meta({ id: 'AccountQuery' });
export type AccountQuery = z.infer<typeof AccountQuery>;

export const AuditQuery = z.strictObject({
  account_id: z.string().max(100).optional(),
  actor: z.string().max(200).optional().describe('`patient`, `operator:<os user>`, `admin:<account id>`, `api:<client id>`, `system`.'),
  type: z.string().max(100).optional(),
  client_id: z.string().max(100).optional(),
  from: time.optional(),
  until: time.optional(),
  cursor: cursor.optional(),
  limit,
}).meta({ id: 'AuditQuery' });
export type AuditQuery = z.infer<typeof AuditQuery>;

export const OrganisationCreate = z.strictObject({ id: organisationId, name: text(100) }).meta({ id: 'OrganisationCreate' });
export type OrganisationCreate = z.infer<typeof OrganisationCreate>;

export const AdminGrant = z.strictObject({
  username: z.string().trim().min(1).max(254),
  role: z.enum(['operator', 'practice', 'auditor']),
  organisations: z.array(organisationId).max(20).default([]),
}).meta({ id: 'AdminGrant' });
export type AdminGrant = z.infer<typeof AdminGrant>;

export const RegistrationTokenCreate = z.strictObject({
  expires_in: z.number().int().min(60).max(90 * 86400).default(7 * 86400).describe('Seconds the initial access token works (default 7 days).'),
}).meta({ id: 'RegistrationTokenCreate' });
export type RegistrationTokenCreate = z.infer<typeof RegistrationTokenCreate>;

// Outputs: plain data; documented in the OpenAPI document (never used to validate).
export const Portal = z.object({
  client_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  disabled: z.boolean(),
  organisations: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()).describe('Client metadata without any secret.'),
  secret_rotation: z.object({ previous_valid_until: z.string() }).nullable(),
}).meta({ id: 'Portal' });

export const PortalWithSecret = Portal.extend({ client_secret: z.string().optional().describe('Shown only in this answer.') }).meta({ id: 'PortalWithSecret' });

export const Account = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  email_verified: z.boolean(),
  phone: z.string().nullable().describe('Masked: *****16.'),
  phone_verified: z.boolean(),
  given_name: z.string().nullable(),
  family_name: z.string().nullable(),
  locale: z.string(),
  status: z.enum(['active', 'disabled']),
  required_actions: z.array(z.string()),
  organisations: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
}).meta({ id: 'Account' });

export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  type: z.string(),
  outcome: z.string().nullable(),
  actor: z.string().nullable(),
  on_behalf_of: z.array(z.string()).nullable(),
  account_id: z.string().nullable(),
  client_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
}).meta({ id: 'AuditEntry' });

export const page = <T extends z.ZodType>(item: T, id: string) => z.object({ items: z.array(item), next_cursor: z.string().nullable() }).meta({ id });
export const AccountPage = page(Account, 'AccountPage');
export const AuditPage = page(AuditEntry, 'AuditPage');

export const Outcome = z.object({ outcome: z.string(), detail: z.record(z.string(), z.unknown()).optional() }).meta({ id: 'Outcome' });
export const Organisation = z.object({ id: z.string(), name: z.string(), created_at: z.string() }).meta({ id: 'Organisation' });
export const RegistrationToken = z.object({ initial_access_token: z.string(), expires_at: z.string() }).meta({ id: 'RegistrationToken' });
