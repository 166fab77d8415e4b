// The portal registration form: every field of `client add`, the sign-in policy and the brand,
// turned into the operation's own input (schemas.ts PortalCreate validates it, not this file).
import { SECOND_FACTORS, RECOVERY_LABELS, RECOVERY_METHODS } from '../../oidc/client-policy.ts';
import { ACR_VALUES } from '../../oidc/assurance.ts';
import { CODE_NAMES } from '../../brand/brand.ts';
import { ADMIN_SCOPES } from '../operations/actor.ts';
import { checked, lines, list, text, type FormValues } from './console-form.ts';

/** The form's field ids, in page order (error summary links point at them). */
export const PORTAL_FIELDS = [
  'client_name', 'client_id', 'type', 'scopes', 'redirect_uris', 'post_logout_redirect_uris', 'backchannel_logout_uri', 'first_party', 'client_credentials',
  'organisations', 'mfa', 'mfa_methods', 'min_acr', 'remember_device', 'password_profile', 'recovery_codes', 'reauth_before_enrolment', 'recovery_label',
  'recovery_methods', 'sms_sender', 'mail_from', 'brand_color', 'support_text_nl', 'support_text_en', 'support_url', 'policy_uri', 'totp_issuer', 'code_name',
] as const;

/** The choices the form offers (the schema's own lists). */
export const PORTAL_CHOICES = {
  types: ['confidential', 'public', 'service'],
  scopes: [...ADMIN_SCOPES],
  methods: [...SECOND_FACTORS],
  acrs: ACR_VALUES.map((value) => value.replace('urn:poortwachter:acr:', '')),
  recoveryLabels: [...RECOVERY_LABELS],
  recoveryMethods: [...RECOVERY_METHODS],
  codeNames: [...CODE_NAMES],
};

/** What a new form shows: the defaults a portal gets without the field. */
export const PORTAL_DEFAULTS: FormValues = {
  type: 'confidential', mfa: 'optional', mfa_methods: [...SECOND_FACTORS], remember_device: 'on', recovery_codes: 'on', reauth_before_enrolment: 'on',
  first_party: 'on', recovery_label: 'forgot', recovery_methods: ['email-link'], code_name: 'code', password_profile: 'default',
};

const defined = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0)));

/** The PortalCreate body the form describes; empty fields are left out (their default applies). */
export function portalInput(values: FormValues): Record<string, unknown> {
  const type = text(values, 'type') ?? 'confidential';
  const service = type === 'service';
  const supportText = defined({ nl: text(values, 'support_text_nl'), en: text(values, 'support_text_en') });
  const passwordProfile = text(values, 'password_profile');
  return defined({
    client_name: text(values, 'client_name') ?? '',
    client_id: text(values, 'client_id'),
    type,
    scopes: service ? list(values, 'scopes') : undefined,
    redirect_uris: service ? undefined : lines(values, 'redirect_uris'),
    post_logout_redirect_uris: service ? undefined : lines(values, 'post_logout_redirect_uris'),
    backchannel_logout_uri: text(values, 'backchannel_logout_uri'),
    first_party: service ? undefined : checked(values, 'first_party'),
    client_credentials: type === 'confidential' ? checked(values, 'client_credentials') : undefined,
    organisations: list(values, 'organisations'),
    ...(service ? {} : {
      mfa: text(values, 'mfa'),
      mfa_methods: list(values, 'mfa_methods'),
      min_acr: text(values, 'min_acr'),
      remember_device: checked(values, 'remember_device'),
      password_profile: passwordProfile === 'default' ? undefined : passwordProfile,
      recovery_codes: checked(values, 'recovery_codes'),
      reauth_before_enrolment: checked(values, 'reauth_before_enrolment'),
      recovery_label: text(values, 'recovery_label'),
      recovery_methods: list(values, 'recovery_methods'),
      sms_sender: text(values, 'sms_sender'),
      mail_from: text(values, 'mail_from'),
      brand_color: text(values, 'brand_color'),
      support_text: Object.keys(supportText).length ? supportText : undefined,
      support_url: text(values, 'support_url'),
      policy_uri: text(values, 'policy_uri'),
      totp_issuer: text(values, 'totp_issuer'),
      code_name: text(values, 'code_name'),
    }),
  });
}
