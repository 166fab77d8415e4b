// What portals' pages load of their brand, from us (CSP: `img-src 'self'`, `style-src 'self'`):
//   /brand/<sha256>.<png|jpg|webp>  an uploaded logo, by its content hash
//   /brand/<rrggbb>.css             the colour as a CSS custom property
// A colour in a `style` attribute would need `style-src 'unsafe-inline'`; a stylesheet named by
// the colour itself needs nothing and is cached for good. Both names are their content, so both
// are immutable: a new logo or colour is a new URL.
import type { Middleware } from 'koa';
import { AA_CONTRAST, contrastAgainstWhite } from '../brand/contrast.ts';
import type { Logo, Logos } from '../brand/logos.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const COLOUR_SHEET = /^\/brand\/([0-9a-f]{6})\.css$/;
const LOGO = /^\/brand\/([0-9a-f]{64}\.(?:png|jpg|webp))$/;
/** Logos are small and few; the most recent ones stay in memory. */
const CACHED_LOGOS = 32;

export function brandStylesheet(colour: string): string {
  return `:root { --brand: ${colour}; }\n`;
}

export function brandRoutes(logos: Logos): Middleware {
  const cache = new Map<string, Logo>();
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const sheet = COLOUR_SHEET.exec(ctx.path);
    // Only colours a portal may have: the check is the same as at registration.
    if (sheet && contrastAgainstWhite(`#${sheet[1]}`) >= AA_CONTRAST) {
      ctx.set('Cache-Control', IMMUTABLE);
      ctx.type = 'text/css; charset=utf-8';
      ctx.body = brandStylesheet(`#${sheet[1]}`);
      return;
    }
    const file = LOGO.exec(ctx.path)?.[1];
    if (!file) return next();
    let logo = cache.get(file);
    if (!logo) {
      logo = await logos.find(file);
      if (!logo) return next();
      if (cache.size >= CACHED_LOGOS) cache.delete(cache.keys().next().value!);
      cache.set(file, logo);
    }
    ctx.set('Cache-Control', IMMUTABLE);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = logo.mediaType;
    ctx.body = logo.bytes;
  };
}
