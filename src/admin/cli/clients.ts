// `poortwachter client ...`: registering portals. All metadata goes through ClientRegistry, which
// has oidc-provider validate it, so a client accepted here is a client the server will load.
import { ACR_VALUES, type Acr } from '../../oidc/assurance.ts';
import { SECOND_FACTORS, policyFromMetadata, type SecondFactorId } from '../../oidc/client-policy.ts';
import type { ClientInput } from '../../oidc/client-registry.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/sessions.ts';
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
  if (clientId === ACCOUNT_CLIENT_ID) throw new CliError(`${clientId} is Poortwachter's own client for the account pages; the server manages it`);
}

function parseMethods(args: Args, value: string): SecondFactorId[] {
  const methods = value.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean);
  const unknown = methods.filter((m) => !SECOND_FACTORS.includes(m as SecondFactorId));
  if (!methods.length || unknown.length) {
    throw args.usage(`--mfa-methods takes a comma-separated list of ${SECOND_FACTORS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  return [...new Set(methods)] as SecondFactorId[];
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
  ...BRAND_OPTIONS,
};

const add: Command = {
  group: 'client',
  name: 'add',
  summary: 'Registers a portal (relying party); prints its client_id and, only this once, its secret.',
  options: {
    name: { type: 'string', value: 'NAME', description: 'portal name shown to patients', required: true },
    'redirect-uri': { type: 'string', multiple: true, value: 'URI', description: 'exact callback URL of the portal', required: true },
    public: { type: 'boolean', description: 'no secret (single-page or mobile app); PKCE is then required' },
    'first-party': { type: 'boolean', description: 'our own portal: skip the consent screen' },
    'client-credentials': { type: 'boolean', description: 'also allow the client_credentials grant (confidential clients only)' },
    'client-id': { type: 'string', value: 'ID', description: 'choose the client_id (default: derived from the name plus random digits)' },
    ...POLICY_OPTIONS,
  },
  details: ['Example:', '  poortwachter client add --name "ZINN cliëntportaal" --redirect-uri https://portaal.zinn.nl/callback --mfa required --mfa-methods sms,totp,passkey'],
  async run(ctx, args) {
    if (args.flag('public') && args.flag('client-credentials')) throw args.usage('--client-credentials needs a confidential client (not --public)');
    const minAcr = args.string('min-acr');
    const methods = args.string('mfa-methods');
    const input: ClientInput = {
      name: args.requiredString('name'),
      redirectUris: args.strings('redirect-uri'),
      public: args.flag('public'),
      firstParty: args.flag('first-party'),
      clientCredentials: args.flag('client-credentials'),
      postLogoutRedirectUris: args.strings('post-logout-redirect-uri'),
      backchannelLogoutUri: args.string('backchannel-logout-uri'),
      mfa: args.choice('mfa', ['required', 'optional'] as const),
      mfaMethods: methods === undefined ? undefined : parseMethods(args, methods),
      rememberDevice: args.onOff('remember-device'),
      minAcr: minAcr === undefined ? undefined : parseAcr(args, 'min-acr', minAcr),
      smsSender: args.string('sms-sender'),
      passwordProfile: args.string('password-profile'),
      mailFrom: args.string('mail-from'),
      clientId: args.string('client-id'),
    };
    const brand = await brandChanges(args);
    input.metadata = brand.changes;
    const registry = await ctx.clients();
    const created = await withLogo(ctx, brand.logo, undefined, () => registry.add(input));
    await ctx.audit({ type: 'admin.client.added', clientId: created.clientId });
    ctx.out.result(
      [
        `Registered portal ${created.clientId}`,
        `  client_id:           ${created.clientId}`,
        ...(created.clientSecret ? [`  client_secret:       ${created.clientSecret}`] : []),
        ...describeClient(created.metadata).slice(1),
      ],
      { client_id: created.clientId, ...(created.clientSecret ? { client_secret: created.clientSecret } : {}), metadata: publicMetadata(created.metadata) },
    );
    if (created.clientSecret && !ctx.out.json) {
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
    const registry = await ctx.clients();
    const existing = (await registry.list()).find((c) => c.clientId === clientId);
    if (!existing) throw new CliError(`no client ${clientId} (see: poortwachter client list)`);

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
    if (clientCredentials !== undefined) {
      if (clientCredentials && existing.metadata.token_endpoint_auth_method === 'none') throw new CliError('a public client cannot use client_credentials');
      const grants = Array.isArray(existing.metadata.grant_types) ? existing.metadata.grant_types.filter((g) => g !== 'client_credentials') : ['authorization_code', 'refresh_token'];
      changes.grant_types = clientCredentials ? [...grants, 'client_credentials'] : grants;
    }
    const mfa = args.choice('mfa', ['required', 'optional'] as const);
    if (mfa) changes.mfa = mfa;
    const methods = args.string('mfa-methods');
    if (methods !== undefined) changes.mfa_methods = methods === 'all' ? undefined : parseMethods(args, methods);
    const rememberDevice = args.onOff('remember-device');
    if (rememberDevice !== undefined) changes.remember_device = rememberDevice;
    removable('min-acr', (value) => (changes.min_acr = parseAcr(args, 'min-acr', value)), () => (changes.min_acr = undefined));
    removable('sms-sender', (value) => (changes.sms_sender = value), () => (changes.sms_sender = undefined));
    removable('mail-from', (value) => (changes.mail_from = value), () => (changes.mail_from = undefined));
    const profile = args.string('password-profile');
    if (profile !== undefined) changes.password_profile = profile === 'default' || profile === 'none' ? undefined : profile;

    const brand = await brandChanges(args, existing.metadata);
    Object.assign(changes, brand.changes);

    if (!Object.keys(changes).length) throw args.usage('nothing to change: give at least one option');
    const updated = await withLogo(ctx, brand.logo, 'brand_logo' in changes ? existing.metadata.brand_logo : undefined, () => registry.update(clientId, changes));
    const changed = Object.keys(changes).filter((key) => key !== 'backchannel_logout_session_required');
    await ctx.audit({ type: 'admin.client.updated', clientId, detail: { changed } });
    ctx.out.result([`Updated portal ${clientId} (${changed.join(', ')})`, ...describeClient(updated.metadata)], clientJson(updated));
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
        client.clientId === ACCOUNT_CLIENT_ID ? 'internal' : `${auth}${policy.firstParty ? ', 1st party' : ''}`,
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
    if (!(await (await ctx.services()).store.clients.remove(clientId))) throw new CliError(`no client ${clientId} (see: poortwachter client list)`);
    await ctx.audit({ type: 'admin.client.removed', clientId });
    ctx.out.result(`Removed portal ${clientId}`, { client_id: clientId, removed: true });
  },
};

export const clientCommands: Command[] = [add, update, show, list, remove];
