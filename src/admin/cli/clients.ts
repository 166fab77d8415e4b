// `poortwachter client ...`: registering portals. All metadata goes through ClientRegistry, which
// has oidc-provider validate it, so a client accepted here is a client the server will load.
import { ACR_VALUES, type Acr } from '../../oidc/assurance.ts';
import { RECOVERY_LABELS, RECOVERY_METHODS, SECOND_FACTORS, policyFromMetadata, type RecoveryMethod, type SecondFactorId } from '../../oidc/client-policy.ts';
import { isInternalClient } from '../../oidc/internal-clients.ts';
import type { ClientRecord } from '../../store/port.ts';
import type { Args, Command, OptionSpec } from './command.ts';
import { CliError } from './errors.ts';
import { table } from './output.ts';
import { BRAND_OPTIONS, brandChanges, describeBrand, withLogo } from './client-brand.ts';

const ACR_PREFIX = 'urn:poortwachter:acr:';
const shortAcr = (acr: string | undefined) => (acr ?? '').replace(ACR_PREFIX, '');

/** `substantial` or the full `urn:poortwachter:acr:substantial`. */
function parseAcr(args: Args, name: string, value: string): Acr {
  const acr = ACR_VALUES.find((known) => known === value || known === `${ACR_PREFIX}${value}`);
  if (!acr) throw args.usage(`--${name} must be one of: ${ACR_VALUES.map(shortAcr).join(', ')} (or the full ${ACR_PREFIX}... value)`);
  return acr;
}

/** The account pages' own client is rewritten by the server at every start: changes would not last. */
function refuseInternal(clientId: string): void {
  if (isInternalClient(clientId)) throw new CliError(`${clientId} is Poortwachter's own client for its account or admin pages; the server manages it`);
}

function parseMethods(args: Args, value: string): SecondFactorId[] {
  const methods = value.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean);
  const unknown = methods.filter((m) => !SECOND_FACTORS.includes(m as SecondFactorId));
  if (!methods.length || unknown.length) {
    throw args.usage(`--mfa-methods takes a comma-separated list of ${SECOND_FACTORS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  return [...new Set(methods)] as SecondFactorId[];
}

function parseRecoveryMethods(args: Args, value: string): RecoveryMethod[] {
  const methods = value.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean);
  const unknown = methods.filter((m) => !RECOVERY_METHODS.includes(m as RecoveryMethod));
  if (!methods.length || unknown.length) {
    throw args.usage(`--recovery-methods takes a comma-separated list of ${RECOVERY_METHODS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  return [...new Set(methods)] as RecoveryMethod[];
}

/** The metadata without the secret: the only form that is ever printed after registration. */
function publicMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const { client_secret: _secret, ...rest } = metadata;
  return rest;
}

function clientJson(record: Pick<ClientRecord, 'clientId' | 'metadata'> & Partial<ClientRecord>) {
  return {
    client_id: record.clientId,
    ...(record.createdAt !== undefined ? { created_at: new Date(record.createdAt).toISOString() } : {}),
    ...(record.updatedAt !== undefined ? { updated_at: new Date(record.updatedAt).toISOString() } : {}),
    metadata: publicMetadata(record.metadata),
  };
}

/** The lines a person needs to check a portal's sign-in policy at a glance. */
function describeClient(metadata: Record<string, unknown>): string[] {
  const policy = policyFromMetadata(metadata);
  const list = (value: unknown) => (Array.isArray(value) && value.length ? value.join(', ') : '-');
  return [
    `  name:                ${policy.name}`,
    `  type:                ${metadata.token_endpoint_auth_method === 'none' ? 'public (PKCE, no secret)' : 'confidential (client_secret_basic)'}${policy.firstParty ? ', first party (no consent screen)' : ''}`,
    `  redirect URIs:       ${list(metadata.redirect_uris)}`,
    `  post-logout URIs:    ${list(metadata.post_logout_redirect_uris)}`,
    `  back-channel logout: ${typeof metadata.backchannel_logout_uri === 'string' ? metadata.backchannel_logout_uri : '-'}`,
    `  grant types:         ${list(metadata.grant_types)}`,
    `  mfa:                 ${policy.mfa} (${policy.mfaMethods.join(', ')})`,
    `  remember device:     ${policy.rememberDevice ? 'on' : 'off'}`,
    `  minimum acr:         ${shortAcr(policy.minAcr) || '-'}`,
    `  sms sender:          ${policy.smsSender ?? '-'}`,
    `  password profile:    ${policy.passwordProfile ?? 'default'}`,
    ...describeBrand(metadata),
    `  recovery:            ${policy.recoveryMethods.join(', ')} (link: ${policy.recoveryLabel})`,
    `  activation:          phone ${policy.verifyPhone ? 'verified by SMS' : 'not verified'}, ends at ${policy.initiateLoginUri ?? '"U bent klaar"'}`,
  ];
}

// Options both `add` and `update` take; on/off switches are plain flags for `add` (off is the
// default there) and explicit values for `update` (so "not given" can mean "leave as is").
const POLICY_OPTIONS: Record<string, OptionSpec> = {
  'post-logout-redirect-uri': { type: 'string', multiple: true, value: 'URI', description: 'where the portal may send patients after logout' },
  'backchannel-logout-uri': { type: 'string', value: 'URI', description: 'the portal endpoint that receives logout tokens' },
  mfa: { type: 'string', value: 'required|optional', description: 'whether patients need a second factor for this portal (default optional)' },
  'mfa-methods': { type: 'string', value: 'LIST', description: `second factors this portal accepts: ${SECOND_FACTORS.join(',')} (default all)` },
  'remember-device': { type: 'string', value: 'on|off', description: 'may patients skip the second factor on a remembered device (default on)' },
  'min-acr': { type: 'string', value: 'ACR', description: `level every login must reach: ${ACR_VALUES.map(shortAcr).join(', ')}` },
  'sms-sender': { type: 'string', value: 'NAME', description: 'alphanumeric SMS sender, 1-11 characters, e.g. ZINNZORG' },
  'password-profile': { type: 'string', value: 'NAME', description: 'password rules for this portal\'s patients (see: poortwachter password-profile list; default: default)' },
  'mail-from': { type: 'string', value: 'SENDER', description: 'sender of mails for this portal, e.g. "Mijn Therapie Dossier <no-reply@mijntherapiedossier.nl>" (default MAIL_FROM)' },
  'verify-phone': { type: 'string', value: 'on|off', description: 'an activation verifies the patient\'s phone number by SMS first (default off)' },
  'initiate-login-uri': { type: 'string', value: 'URL', description: 'the portal\'s third-party login URL (https): an activation ends there (default: a "U bent klaar" page)' },
  ...BRAND_OPTIONS,
  'recovery-label': { type: 'string', value: RECOVERY_LABELS.join('|'), description: 'wording of the login page\'s recovery link (default forgot: "Wachtwoord vergeten?")' },
  'recovery-methods': { type: 'string', value: 'LIST', description: `how patients prove their account when recovering: ${RECOVERY_METHODS.join(',')} (default email-link)` },
};

/** Brand and switch changes as an admin operation's body: a removed setting (`none`) is null. */
function bodyOf(changes: Record<string, unknown>, nullForRemoved: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(changes)) {
    if (key === 'backchannel_logout_session_required') continue;
    if (value === undefined) {
      if (nullForRemoved) body[key] = null;
    } else body[key] = value;
  }
  return body;
}

const add: Command = {
  group: 'client',
  name: 'add',
  summary: 'Registers a portal (relying party) or an admin API client; prints its client_id and, only this once, its secret.',
  options: {
    name: { type: 'string', value: 'NAME', description: 'portal name shown to patients', required: true },
    'redirect-uri': { type: 'string', multiple: true, value: 'URI', description: 'exact callback URL of the portal (required, except with --service)' },
    public: { type: 'boolean', description: 'no secret (single-page or mobile app); PKCE is then required' },
    'first-party': { type: 'boolean', description: 'our own portal: skip the consent screen' },
    'client-credentials': { type: 'boolean', description: 'also allow the client_credentials grant (confidential clients only)' },
    service: { type: 'boolean', description: 'a machine client of the admin API: client_credentials only, with --scopes' },
    scopes: { type: 'string', value: 'SCOPES', description: 'admin API scopes of a --service client, space-separated: admin:clients admin:accounts admin:audit' },
    organisation: { type: 'string', multiple: true, value: 'ID', description: 'an organisation the portal belongs to (an API client with organisations is confined to them)' },
    'client-id': { type: 'string', value: 'ID', description: 'choose the client_id (default: derived from the name plus random digits)' },
    ...POLICY_OPTIONS,
  },
  details: [
    'Examples:',
    '  poortwachter client add --name "ZINN cliëntportaal" --redirect-uri https://portaal.zinn.nl/callback --mfa required --mfa-methods sms,totp,passkey',
    '  poortwachter client add --name "Koppeling EPD" --service --scopes "admin:clients admin:accounts"',
  ],
  async run(ctx, args) {
    if (args.flag('public') && args.flag('client-credentials')) throw args.usage('--client-credentials needs a confidential client (not --public)');
    if (args.flag('service') && (args.flag('public') || args.has('redirect-uri'))) throw args.usage('--service is a machine client: no --public, no --redirect-uri');
    if (!args.flag('service') && args.has('scopes')) throw args.usage('--scopes is for --service clients');
    if (args.flag('service') && !args.has('scopes')) throw args.usage('--service needs --scopes, e.g. --scopes "admin:clients admin:accounts"');
    if (!args.flag('service') && !args.has('redirect-uri')) throw args.usage('--redirect-uri is required');
    const minAcr = args.string('min-acr');
    const methods = args.string('mfa-methods');
    const recoveryMethods = args.string('recovery-methods');
    const brand = await brandChanges(args);
    const body: Record<string, unknown> = {
      client_name: args.requiredString('name'),
      type: args.flag('service') ? 'service' : args.flag('public') ? 'public' : 'confidential',
      ...(args.has('redirect-uri') ? { redirect_uris: args.strings('redirect-uri') } : {}),
      ...(args.has('scopes') ? { scopes: args.requiredString('scopes').split(/[\s,]+/).filter(Boolean) } : {}),
      ...(args.flag('first-party') ? { first_party: true } : {}),
      ...(args.flag('client-credentials') ? { client_credentials: true } : {}),
      ...(args.has('post-logout-redirect-uri') ? { post_logout_redirect_uris: args.strings('post-logout-redirect-uri') } : {}),
      ...(args.has('backchannel-logout-uri') ? { backchannel_logout_uri: args.string('backchannel-logout-uri') } : {}),
      ...(args.has('mfa') ? { mfa: args.choice('mfa', ['required', 'optional'] as const) } : {}),
      ...(methods === undefined ? {} : { mfa_methods: parseMethods(args, methods) }),
      ...(args.has('remember-device') ? { remember_device: args.onOff('remember-device') } : {}),
      ...(minAcr === undefined ? {} : { min_acr: parseAcr(args, 'min-acr', minAcr) }),
      ...(args.has('sms-sender') ? { sms_sender: args.string('sms-sender') } : {}),
      ...(args.has('password-profile') && args.string('password-profile') !== 'default' ? { password_profile: args.string('password-profile') } : {}),
      ...(args.has('mail-from') ? { mail_from: args.string('mail-from') } : {}),
      ...(args.has('verify-phone') ? { verify_phone: args.onOff('verify-phone') } : {}),
      ...(args.has('initiate-login-uri') ? { initiate_login_uri: args.string('initiate-login-uri') } : {}),
      ...(args.has('recovery-label') ? { recovery_label: args.choice('recovery-label', RECOVERY_LABELS) } : {}),
      ...(recoveryMethods === undefined ? {} : { recovery_methods: parseRecoveryMethods(args, recoveryMethods) }),
      ...(args.has('client-id') ? { client_id: args.string('client-id') } : {}),
      ...(args.has('organisation') ? { organisations: args.strings('organisation') } : {}),
      ...bodyOf(brand.changes, false),
    };
    const ops = await ctx.operations();
    const created = await withLogo(ctx, brand.logo, undefined, () => ops.portals.register(ctx.actor, body));
    const { portal, clientSecret } = created;
    ctx.out.result(
      [
        `Registered ${body.type === 'service' ? 'admin API client' : 'portal'} ${portal.client_id}`,
        `  client_id:           ${portal.client_id}`,
        ...(clientSecret ? [`  client_secret:       ${clientSecret}`] : []),
        ...(portal.organisations.length ? [`  organisations:       ${portal.organisations.join(', ')}`] : []),
        ...(body.type === 'service' ? [`  scopes:              ${Array.isArray(portal.metadata.admin_scopes) ? portal.metadata.admin_scopes.join(' ') : ''}`] : describeClient(portal.metadata).slice(1)),
      ],
      { client_id: portal.client_id, ...(clientSecret ? { client_secret: clientSecret } : {}), organisations: portal.organisations, metadata: portal.metadata },
    );
    if (clientSecret && !ctx.out.json) {
      ctx.out.note('The secret is shown only this once (it cannot be retrieved later): put it in the portal\'s secret store now.');
    }
  },
};

const update: Command = {
  group: 'client',
  name: 'update',
  summary: 'Changes a portal\'s settings; what you do not mention stays as it is.',
  args: ['CLIENT_ID'],
  options: {
    name: { type: 'string', value: 'NAME', description: 'portal name shown to patients' },
    'redirect-uri': { type: 'string', multiple: true, value: 'URI', description: 'replaces all callback URLs' },
    'first-party': { type: 'string', value: 'on|off', description: 'skip the consent screen' },
    'client-credentials': { type: 'string', value: 'on|off', description: 'allow the client_credentials grant' },
    organisation: { type: 'string', multiple: true, value: 'ID', description: 'replaces the organisations the portal belongs to (`none`: none)' },
    ...POLICY_OPTIONS,
  },
  details: [
    'The secret never changes here (remove and add the client to issue a new one).',
    '--post-logout-redirect-uri, --backchannel-logout-uri, --min-acr, --sms-sender, --mail-from, --logo, --color,',
    '--support-text(-en), --support-url, --privacy-url and --totp-issuer take `none` to remove the setting;',
    '--mfa-methods takes `all` to accept every method again; --password-profile takes `default`.',
    '',
    'Example:',
    '  poortwachter client update zinn-portaal-1a2b3c4d --mfa required --mfa-methods sms,totp --min-acr substantial',
  ],
  async run(ctx, args) {
    const [clientId] = args.positionals as [string];
    refuseInternal(clientId);
    const ops = await ctx.operations();
    const existing = { metadata: (await ops.portals.get(ctx.actor, clientId)).portal.metadata };

    // Metadata property → new value; `undefined` removes the property (ClientRegistry.update).
    const changes: Record<string, unknown> = {};
    const removable = (name: string, apply: (value: string) => void, remove: () => void) => {
      const value = args.string(name);
      if (value === undefined) return;
      if (value === 'none') remove();
      else apply(value);
    };
    if (args.has('name')) changes.client_name = args.requiredString('name');
    if (args.has('redirect-uri')) changes.redirect_uris = args.strings('redirect-uri');
    if (args.has('post-logout-redirect-uri')) {
      const uris = args.strings('post-logout-redirect-uri');
      changes.post_logout_redirect_uris = uris.includes('none') ? undefined : uris;
    }
    removable(
      'backchannel-logout-uri',
      (uri) => Object.assign(changes, { backchannel_logout_uri: uri, backchannel_logout_session_required: true }),
      () => Object.assign(changes, { backchannel_logout_uri: undefined, backchannel_logout_session_required: undefined }),
    );
    const firstParty = args.onOff('first-party');
    if (firstParty !== undefined) changes.first_party = firstParty;
    const clientCredentials = args.onOff('client-credentials');
    const mfa = args.choice('mfa', ['required', 'optional'] as const);
    if (mfa) changes.mfa = mfa;
    const methods = args.string('mfa-methods');
    if (methods !== undefined) changes.mfa_methods = methods === 'all' ? undefined : parseMethods(args, methods);
    const rememberDevice = args.onOff('remember-device');
    if (rememberDevice !== undefined) changes.remember_device = rememberDevice;
    removable('min-acr', (value) => (changes.min_acr = parseAcr(args, 'min-acr', value)), () => (changes.min_acr = undefined));
    removable('sms-sender', (value) => (changes.sms_sender = value), () => (changes.sms_sender = undefined));
    removable('mail-from', (value) => (changes.mail_from = value), () => (changes.mail_from = undefined));
    removable('initiate-login-uri', (value) => (changes.initiate_login_uri = value), () => (changes.initiate_login_uri = undefined));
    const verifyPhone = args.onOff('verify-phone');
    if (verifyPhone !== undefined) changes.verify_phone = verifyPhone;
    const profile = args.string('password-profile');
    if (profile !== undefined) changes.password_profile = profile === 'default' || profile === 'none' ? undefined : profile;
    const recoveryLabel = args.choice('recovery-label', RECOVERY_LABELS);
    if (recoveryLabel) changes.recovery_label = recoveryLabel;
    const recoveryMethods = args.string('recovery-methods');
    if (recoveryMethods !== undefined) changes.recovery_methods = parseRecoveryMethods(args, recoveryMethods);

    const brand = await brandChanges(args, existing.metadata);
    Object.assign(changes, brand.changes);

    const body = bodyOf(changes, true);
    if (clientCredentials !== undefined) body.client_credentials = clientCredentials;
    if (args.has('organisation')) body.organisations = args.strings('organisation').filter((o) => o !== 'none');
    if (!Object.keys(body).length) throw args.usage('nothing to change: give at least one option');
    const updated = await withLogo(ctx, brand.logo, 'brand_logo' in changes ? existing.metadata.brand_logo : undefined, () => ops.portals.update(ctx.actor, clientId, body));
    ctx.out.result(
      [`Updated portal ${clientId} (${updated.changed.join(', ')})`, ...describeClient(updated.portal.metadata)],
      { client_id: clientId, created_at: updated.portal.created_at, updated_at: updated.portal.updated_at, organisations: updated.portal.organisations, metadata: updated.portal.metadata },
    );
  },
};

const list: Command = {
  group: 'client',
  name: 'list',
  summary: 'Lists the registered portals (secrets are never shown).',
  options: {},
  async run(ctx) {
    // Straight from the store: listing needs no oidc-provider instance (see CliContext.clients).
    const clients = await (await ctx.services()).store.clients.list();
    const rows = clients.map((client) => {
      const policy = policyFromMetadata(client.metadata);
      const auth = client.metadata.token_endpoint_auth_method === 'none' ? 'public' : 'secret';
      return [
        client.clientId,
        policy.name,
        isInternalClient(client.clientId) ? 'internal' : `${auth}${policy.firstParty ? ', 1st party' : ''}`,
        policy.mfa === 'required' ? `required (${policy.mfaMethods.join(',')})` : 'optional',
        shortAcr(policy.minAcr),
        Array.isArray(client.metadata.redirect_uris) ? client.metadata.redirect_uris.join(' ') : '',
      ];
    });
    ctx.out.result(
      clients.length
        ? table(['CLIENT_ID', 'NAME', 'TYPE', 'MFA', 'MIN_ACR', 'REDIRECT_URIS'], rows)
        : ['No portals registered yet. Add one with: poortwachter client add --name NAME --redirect-uri URI'],
      clients.map(clientJson),
    );
  },
};

const show: Command = {
  group: 'client',
  name: 'show',
  summary: 'Shows one portal: its sign-in policy, brand and switches (never the secret).',
  args: ['CLIENT_ID'],
  options: {},
  async run(ctx, args) {
    const [clientId] = args.positionals as [string];
    const client = await (await ctx.services()).store.clients.find(clientId);
    if (!client) throw new CliError(`no client ${clientId} (see: poortwachter client list)`);
    ctx.out.result([`Portal ${clientId}`, ...describeClient(client.metadata)], clientJson(client));
  },
};

const remove: Command = {
  group: 'client',
  name: 'remove',
  summary: 'Removes a portal: it can no longer sign patients in, and its tokens stop working.',
  args: ['CLIENT_ID'],
  options: {},
  async run(ctx, args) {
    const [clientId] = args.positionals as [string];
    refuseInternal(clientId);
    await (await ctx.operations()).portals.remove(ctx.actor, clientId);
    ctx.out.result(`Removed portal ${clientId}`, { client_id: clientId, removed: true });
  },
};

export const clientCommands: Command[] = [add, update, show, list, remove];
