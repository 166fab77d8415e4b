// The hand-off from a finished activation to the portal's login (Mijn Therapie Dossier: "ben je na
// stap 4 ingelogd"). The activation makes no session itself: the portal starts a normal login (its
// `initiate_login_uri`, or the "U bent klaar" link), and that login's first request takes what the
// activation proved a moment ago — the new password and the second factor just set up — instead of
// asking for them again. Only in the browser that finished the activation (an HttpOnly cookie with
// a random value; the store keeps its SHA-256), only for the portal of the invitation, once, within
// five minutes, and never where the portal asks for a fresh login (prompt=login, a max_age the
// proofs are older than) or the browser already has a session: then the login asks as always.
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import type { Proof } from '../../oidc/assurance.ts';
import { randomId, sha256 } from '../../accounts/random.ts';

const HANDOFF_KIND = 'activation-handoff';
const HANDOFF_COOKIE = 'pw_activated';
const HANDOFF_MS = 5 * 60_000;
/** The login's pages (flows/login/login-routes.ts): the only place the cookie is sent. */
const LOGIN_PATH = '/interaction';

export interface Handoff {
  accountId: string;
  proofs: Proof[];
}

/** Stores the hand-off for the portal and gives this browser its cookie. */
export async function offerHandoff(services: Services, ctx: Context, handoff: Handoff & { clientId: string }): Promise<void> {
  const secret = randomId(32);
  const now = services.clock.now();
  await services.store.flows.put({
    id: sha256(secret), kind: HANDOFF_KIND, interactionUid: null, accountId: handoff.accountId, clientId: handoff.clientId,
    state: { proofs: handoff.proofs }, csrf: randomId(16), createdAt: now, expiresAt: now + HANDOFF_MS,
  });
  // A session cookie: closing the browser (a practice's desk, a family computer) drops it; the
  // record itself lasts five minutes at most.
  ctx.cookies.set(HANDOFF_COOKIE, secret, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: LOGIN_PATH, signed: false, overwrite: true });
}

/**
 * Takes (and ends) the browser's hand-off for this portal, if there is one, for an active account
 * whose username is the portal's `login_hint` when it sent one (a hint for someone else: that
 * person is signing in, not the patient who activated).
 */
export async function takeHandoff(services: Services, ctx: Context, clientId: string, loginHint: string | undefined): Promise<Handoff | undefined> {
  const secret = ctx.cookies.get(HANDOFF_COOKIE, { signed: false });
  if (!secret) return undefined;
  ctx.cookies.set(HANDOFF_COOKIE, null, { path: LOGIN_PATH, signed: false });
  if (secret.length > 100) return undefined;
  const record = await services.store.flows.find(sha256(secret), services.clock.now());
  if (!record || record.kind !== HANDOFF_KIND || !record.accountId) return undefined;
  await services.store.flows.remove(record.id);
  if (record.clientId !== clientId) return undefined;
  const account = await services.accounts.findById(record.accountId);
  if (!account || account.status !== 'active') return undefined;
  if (loginHint !== undefined && loginHint !== account.username && loginHint !== account.email) return undefined;
  const proofs = (record.state as { proofs?: Proof[] }).proofs;
  return Array.isArray(proofs) && proofs.length ? { accountId: record.accountId, proofs } : undefined;
}
