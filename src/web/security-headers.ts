// Security headers for every response of ours, and a fresh CSP nonce per request. No third-party
// origins anywhere: scripts, styles, fonts and images come from us.
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';

const PAGE_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

// `form-action` is left out on purpose: Chromium applies it to the redirect chain after a form
// post, which ends at the portal's redirect_uri on another origin.
const BASE_POLICY = `script-src 'self'; ${PAGE_POLICY}`;

export function securityHeaders(options: { https: boolean }): Middleware {
  return async (ctx, next) => {
    // Made on first use: only rendered pages need a nonce, token and JSON endpoints do not.
    let nonce: string | undefined;
    Object.defineProperty(ctx.state, 'nonce', { enumerable: true, get: () => (nonce ??= randomBytes(16).toString('base64')) });
    // Set before the response is made: oidc-provider adds the hash of its form_post auto-submit
    // script to a policy it finds. Our own pages get their nonce added afterwards.
    ctx.set('Content-Security-Policy', BASE_POLICY);
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    // The rest only means something for documents a browser renders; JSON and JWT responses of the
    // token endpoints stay small.
    if (!ctx.response.is('html')) {
      ctx.remove('Content-Security-Policy');
      return;
    }
    if (nonce) ctx.set('Content-Security-Policy', String(ctx.response.get('Content-Security-Policy')).replace("script-src 'self'", `script-src 'self' 'nonce-${nonce}'`));
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  };
}
