// Every route of the admin REST API, described once: the router is built from this table and so
// is the OpenAPI document (openapi.ts), so neither can have a route the other lacks. Each route
// names the scope it needs, its path parameters, query and body schemas (the operations' own zod
// schemas), its answer, and calls exactly one admin operation.
import { z } from 'zod';
import type { AdminOperations, Actor } from '../operations/index.ts';
import type { AdminScope } from '../operations/actor.ts';
import * as S from '../operations/schemas.ts';

export interface Call {
  actor: Actor;
  ops: AdminOperations;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  /** The request's If-Match header (required where `ifMatch` is set). */
  ifMatch: string | undefined;
}

export interface Answer {
  status?: number;
  body?: unknown;
  etag?: string;
  /** A CSV download streamed row by row. */
  csv?: { filename: string; rows: AsyncIterable<string> };
}

export interface RouteDef {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI form: `/portals/{client_id}`. */
  path: string;
  operationId: string;
  summary: string;
  scope: AdminScope;
  params?: z.ZodObject;
  /** Query parameters (strict: an unknown one is a 400). */
  query: z.ZodObject;
  /** JSON body (strict); absent: the route takes none. */
  body?: z.ZodType;
  /** Updates need the ETag of the read they are based on (428 without, 412 when stale). */
  ifMatch?: boolean;
  response: { status: number; schema?: z.ZodType; etag?: boolean; csv?: boolean; description: string };
  handle(call: Call): Promise<Answer>;
}

const clientIdParam = z.strictObject({ client_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/) });
const accountIdParam = z.strictObject({ account_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });
const noQuery = z.strictObject({});
const PortalList = z.object({ items: z.array(S.Portal) }).meta({ id: 'PortalList' });
const SecretRotated = S.PortalWithSecret.extend({ previous_secret_valid_until: z.string().nullable() }).meta({ id: 'SecretRotated' });
const AccountAnswer = S.Account.extend({ changed: z.array(z.string()).optional(), notices_sent: z.array(z.string()).optional() }).meta({ id: 'AccountAnswer' });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One account action (POST .../<action>) with an optional body. */
function accountAction(path: string, operationId: string, summary: string, body: z.ZodType, run: (call: Call, id: string) => Promise<unknown>): RouteDef {
  return {
    method: 'post', path: `/accounts/{account_id}/${path}`, operationId, summary, scope: 'admin:accounts', params: accountIdParam, query: noQuery, body,
    response: { status: 200, schema: S.Outcome, description: 'Done; what happened.' },
    handle: async (call) => ({ body: await run(call, call.params.account_id!) }),
  };
}

export const ROUTES: RouteDef[] = [
  {
    method: 'get', path: '/portals', operationId: 'listPortals', summary: 'The portals within reach.', scope: 'admin:clients', query: noQuery,
    response: { status: 200, schema: PortalList, description: 'The portals.' },
    handle: async ({ ops, actor }) => ({ body: { items: await ops.portals.list(actor) } }),
  },
  {
    method: 'post', path: '/portals', operationId: 'registerPortal', summary: 'Registers a portal with its policy and brand; the secret is in this answer only.', scope: 'admin:clients', query: noQuery, body: S.PortalCreate,
    response: { status: 201, schema: S.PortalWithSecret, etag: true, description: 'Registered.' },
    handle: async ({ ops, actor, body }) => {
      const { portal, clientSecret, etag } = await ops.portals.register(actor, body);
      return { status: 201, etag, body: { ...portal, ...(clientSecret ? { client_secret: clientSecret } : {}) } };
    },
  },
  {
    method: 'get', path: '/portals/{client_id}', operationId: 'getPortal', summary: 'One portal (never its secret).', scope: 'admin:clients', params: clientIdParam, query: noQuery,
    response: { status: 200, schema: S.Portal, etag: true, description: 'The portal.' },
    handle: async ({ ops, actor, params }) => {
      const { portal, etag } = await ops.portals.get(actor, params.client_id!);
      return { body: portal, etag };
    },
  },
  {
    method: 'patch', path: '/portals/{client_id}', operationId: 'updatePortal', summary: 'Changes what the body names; null removes a setting.', scope: 'admin:clients', params: clientIdParam, query: noQuery, body: S.PortalUpdate, ifMatch: true,
    response: { status: 200, schema: S.Portal, etag: true, description: 'Changed.' },
    handle: async ({ ops, actor, params, body, ifMatch }) => {
      const { portal, etag } = await ops.portals.update(actor, params.client_id!, body, ifMatch);
      return { body: portal, etag };
    },
  },
  {
    method: 'delete', path: '/portals/{client_id}', operationId: 'deletePortal', summary: 'Removes a portal: its logins and tokens stop working.', scope: 'admin:clients', params: clientIdParam, query: noQuery,
    response: { status: 204, description: 'Removed.' },
    handle: async ({ ops, actor, params }) => {
      await ops.portals.remove(actor, params.client_id!);
      return { status: 204 };
    },
  },
  {
    method: 'post', path: '/portals/{client_id}/secret', operationId: 'rotatePortalSecret', summary: 'A new secret (in this answer only); the old one keeps working for the grace period (ADMIN_SECRET_GRACE_SECONDS).', scope: 'admin:clients', params: clientIdParam, query: noQuery, body: S.Empty,
    response: { status: 200, schema: SecretRotated, etag: true, description: 'Rotated.' },
    handle: async ({ ops, actor, params }) => {
      const { portal, clientSecret, previousValidUntil, etag } = await ops.portals.rotateSecret(actor, params.client_id!);
      return { etag, body: { ...portal, client_secret: clientSecret, previous_secret_valid_until: iso(previousValidUntil) } };
    },
  },
  ...(['disable', 'enable'] as const).map((action): RouteDef => ({
    method: 'post', path: `/portals/{client_id}/${action}`, operationId: `${action}Portal`,
    summary: action === 'disable' ? 'No logins, tokens or refreshes for this portal until it is enabled; its settings stay.' : 'Lets a disabled portal work again.',
    scope: 'admin:clients', params: clientIdParam, query: noQuery, body: S.Empty,
    response: { status: 200, schema: S.Portal, etag: true, description: 'Done.' },
    handle: async ({ ops, actor, params }) => {
      const { portal, etag } = await ops.portals.setDisabled(actor, params.client_id!, action === 'disable');
      return { body: portal, etag };
    },
  })),
  {
    method: 'post', path: '/registration-tokens', operationId: 'mintRegistrationToken', summary: 'An initial access token for dynamic client registration (RFC 7591) at /reg.', scope: 'admin:clients', query: noQuery, body: S.RegistrationTokenCreate,
    response: { status: 201, schema: S.RegistrationToken, description: 'Minted; shown once.' },
    handle: async ({ ops, actor, body }) => {
      const minted = await ops.registration.mintInitialAccessToken(actor, body);
      return { status: 201, body: { initial_access_token: minted.token, expires_at: new Date(minted.expiresAt).toISOString() } };
    },
  },
  {
    method: 'get', path: '/accounts', operationId: 'searchAccounts', summary: 'Accounts by part of username, e-mail address or name; cursor paging.', scope: 'admin:accounts', query: S.AccountQuery,
    response: { status: 200, schema: S.AccountPage, description: 'A page of accounts.' },
    handle: async ({ ops, actor, query }) => ({ body: await ops.accounts.search(actor, query) }),
  },
  {
    method: 'post', path: '/accounts', operationId: 'createAccount', summary: 'Creates an account without a password (invite it, or mail a temporary password).', scope: 'admin:accounts', query: noQuery, body: S.AccountCreate,
    response: { status: 201, schema: S.Account, etag: true, description: 'Created.' },
    handle: async ({ ops, actor, body }) => {
      const { account, etag } = await ops.accounts.create(actor, body);
      return { status: 201, body: account, etag };
    },
  },
  {
    method: 'get', path: '/accounts/{account_id}', operationId: 'getAccount', summary: 'One account (the phone number masked).', scope: 'admin:accounts', params: accountIdParam, query: noQuery,
    response: { status: 200, schema: S.Account, etag: true, description: 'The account.' },
    handle: async ({ ops, actor, params }) => {
      const { account, etag } = await ops.accounts.get(actor, params.account_id!);
      return { body: account, etag };
    },
  },
  {
    method: 'patch', path: '/accounts/{account_id}', operationId: 'updateAccount', summary: 'Changes contact details, names, language, organisations; a new address or number is told to the old one.', scope: 'admin:accounts', params: accountIdParam, query: noQuery, body: S.AccountUpdate, ifMatch: true,
    response: { status: 200, schema: AccountAnswer, etag: true, description: 'Changed.' },
    handle: async ({ ops, actor, params, body, ifMatch }) => {
      const { account, etag, changed, noticesSent } = await ops.accounts.update(actor, params.account_id!, body, ifMatch);
      return { etag, body: { ...account, changed, notices_sent: noticesSent } };
    },
  },
  accountAction('invitation', 'inviteAccount', 'Sends (again) the activation invitation: a single-use link to /activate/<token> (default 72 h) from the portal\'s sender; the previous link stops working. 409 when the account has a password.', S.PortalChoice,
    async ({ ops, actor, body }, id) => {
      const sent = await ops.accountSecurity.invite(actor, id, body);
      return { outcome: 'sent', detail: { sent_to: sent.sentTo, expires_at: new Date(sent.expiresAt).toISOString() } };
    }),
  accountAction('temporary-password', 'mailTemporaryPassword', 'Mails a temporary password (never shown); the patient\'s own keeps working until the change.', S.PortalChoice,
    async ({ ops, actor, body }, id) => {
      const issued = await ops.accountSecurity.temporaryPassword(actor, id, body);
      return { outcome: 'sent', detail: { sent_to: issued.sentTo, expires_at: new Date(issued.expiresAt).toISOString(), client_id: issued.clientId } };
    }),
  accountAction('disable', 'disableAccount', 'Blocks sign-in, userinfo and refresh.', S.Empty, async ({ ops, actor }, id) => ops.accountSecurity.setStatus(actor, id, 'disabled')),
  accountAction('enable', 'enableAccount', 'Lifts the block.', S.Empty, async ({ ops, actor }, id) => ops.accountSecurity.setStatus(actor, id, 'active')),
  accountAction('unlock', 'unlockAccount', 'Lifts a temporary or hard password lock.', S.Empty, async ({ ops, actor }, id) => {
    const { outcome, was, lock } = await ops.accountSecurity.unlock(actor, id);
    return { outcome, detail: { was, lock } };
  }),
  accountAction('reset-second-factors', 'resetSecondFactors', 'Removes every second factor, recovery code and remembered device, ends the sign-ins; the next login enrols; the patient is told.', S.Empty,
    async ({ ops, actor }, id) => {
      const { removed, noticeSent, revoked } = await ops.accountSecurity.resetSecondFactors(actor, id);
      return { outcome: 'reset', detail: { removed, notice_sent: noticeSent, revoked } };
    }),
  accountAction('revoke-sessions', 'revokeSessions', 'Ends every sign-in: sessions, grants, tokens.', S.Empty, async ({ ops, actor }, id) => {
    const { revoked } = await ops.accountSecurity.revokeSessions(actor, id);
    return { outcome: 'revoked', detail: { revoked } };
  }),
  {
    method: 'get', path: '/accounts/{account_id}/audit', operationId: 'accountAuditTrail', summary: 'The account\'s audit trail, newest first.', scope: 'admin:accounts', params: accountIdParam, query: S.AuditQuery.omit({ account_id: true }),
    response: { status: 200, schema: S.AuditPage, description: 'A page of the trail.' },
    handle: async ({ ops, actor, params, query }) => ({ body: await ops.audit.accountTrail(actor, params.account_id!, query) }),
  },
  {
    method: 'get', path: '/audit', operationId: 'searchAudit', summary: 'The audit log filtered by account, actor, event type, portal and time; newest first, cursor paging.', scope: 'admin:audit', query: S.AuditQuery,
    response: { status: 200, schema: S.AuditPage, description: 'A page of the log.' },
    handle: async ({ ops, actor, query }) => ({ body: await ops.audit.search(actor, query) }),
  },
  {
    method: 'get', path: '/audit.csv', operationId: 'exportAudit', summary: 'The filtered audit log as CSV (RFC 4180; cells that could run as a formula are prefixed with \').', scope: 'admin:audit', query: S.AuditQuery.omit({ cursor: true, limit: true }),
    response: { status: 200, csv: true, description: 'CSV, newest first.' },
    handle: async ({ ops, actor, query }) => {
      // Validated before the first byte is sent: a bad filter is a 400, not a broken download.
      const rows = ops.audit.exportCsv(actor, query);
      const first = await rows.next();
      async function* all() {
        if (!first.done) yield first.value;
        yield* rows;
      }
      return { csv: { filename: 'audit.csv', rows: all() } };
    },
  },
];
