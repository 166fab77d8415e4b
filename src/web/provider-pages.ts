// The pages oidc-provider itself shows (errors of authorization requests, logout), rendered with
// our layout and language instead of its English defaults.
import type { Context } from 'koa';
import type { ProviderPages } from '../oidc/provider.ts';
import { render } from './render.ts';
import { renderUnavailable } from './errors.ts';

const KNOWN_ERRORS = new Set([
  'invalid_request', 'invalid_client', 'invalid_redirect_uri', 'unauthorized_client', 'unsupported_response_type',
  'invalid_scope', 'access_denied', 'server_error', 'login_required', 'interaction_required', 'invalid_grant',
]);

export const providerPages: ProviderPages = {
  error(ctx, out) {
    if (out.error === 'temporarily_unavailable') {
      renderUnavailable(ctx as unknown as Context);
      return;
    }
    const status = ctx.status >= 400 ? ctx.status : 400;
    const code = KNOWN_ERRORS.has(out.error) ? out.error : 'other';
    render(ctx as unknown as Context, 'errors/oidc', { code, error: out.error }, status);
  },
  logoutConfirm(ctx, form) {
    render(ctx as unknown as Context, 'flows/logout-confirm', { form });
  },
  loggedOut(ctx) {
    render(ctx as unknown as Context, 'flows/logged-out', {});
  },
};
