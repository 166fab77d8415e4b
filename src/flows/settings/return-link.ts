// "Terug naar <portal>": a portal may link to /account with `client_id` and `return_to`; the
// console then offers a way back. Only an address the portal registered counts — one of its
// `redirect_uris` or its `client_uri` —, compared exactly: anything else would make the console
// an open redirect that names a trusted portal. The choice is kept in a cookie for the console's
// path only, so it survives the login the console sends the patient through first.
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import { isInternalClient } from '../../oidc/internal-clients.ts';

export interface ReturnLink {
  portal: string;
  href: string;
}

const COOKIE = 'pw_account_return';
const MAX_COOKIE = 2048;

/** The portal's registered name and the address, when the portal registered that address. */
async function validate(services: Services, clientId: string, href: string): Promise<ReturnLink | undefined> {
  if (!clientId || !href || isInternalClient(clientId)) return undefined;
  const client = await services.store.clients.find(clientId);
  if (!client) return undefined;
  const { metadata } = client;
  const registered = [
    ...(Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : []),
    ...(typeof metadata.client_uri === 'string' ? [metadata.client_uri] : []),
  ].filter((u): u is string => typeof u === 'string');
  if (!registered.includes(href) || !/^https?:\/\//i.test(href)) return undefined;
  return { portal: typeof metadata.client_name === 'string' ? metadata.client_name : clientId, href };
}

/** Remembers a valid return link from the query (GET /account?client_id=..&return_to=..). */
export async function noteReturnLink(services: Services, ctx: Context): Promise<void> {
  const { client_id: clientId, return_to: href } = ctx.query;
  if (typeof clientId !== 'string' || typeof href !== 'string') return;
  if (!(await validate(services, clientId, href))) return;
  const value = JSON.stringify([clientId, href]);
  if (value.length > MAX_COOKIE) return;
  ctx.cookies.set(COOKIE, Buffer.from(value).toString('base64url'), { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/account', signed: false });
}

/** The link asked for now, else the remembered one, checked again against the portal's registration (it may have changed). */
export async function returnLinkOf(services: Services, ctx: Context): Promise<ReturnLink | undefined> {
  const { client_id: clientId, return_to: href } = ctx.query;
  if (ctx.method === 'GET' && typeof clientId === 'string' && typeof href === 'string') {
    const asked = await validate(services, clientId, href);
    if (asked) return asked;
  }
  const raw = ctx.cookies.get(COOKIE, { signed: false });
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return undefined;
    return await validate(services, parsed[0], parsed[1]);
  } catch {
    return undefined;
  }
}
