// Server-side pages with pug. Templates are compiled once; every page gets the translator, the
// CSP nonce and the language switch link through `ctx.state.page`.
import pug from 'pug';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import type { Language, Translate } from '../i18n/i18n.ts';
import { supportTextIn, type Brand } from '../brand/brand.ts';

export const VIEWS_DIR = fileURLToPath(new URL('../../views', import.meta.url));

export interface PageState {
  lang: Language;
  t: Translate;
  nonce: string;
  /** The same page in the other language. */
  switchUrl: string;
  otherLang: Language;
}

const compiled = new Map<string, pug.compileTemplate>();

function template(view: string): pug.compileTemplate {
  let fn = compiled.get(view);
  if (!fn) {
    fn = pug.compileFile(path.join(VIEWS_DIR, `${view}.pug`), { basedir: VIEWS_DIR });
    compiled.set(view, fn);
  }
  return fn;
}

/** The brand of pages without a portal; set once per app (web/app.ts). */
export function setDeploymentBrand(ctx: Context, brand: Brand): void {
  ctx.state.deploymentBrand = brand;
}

/**
 * The brand a page wears: its portal's when the page belongs to a flow a portal started (every
 * flow page, consent and error page hands its `portal` to the view), else the deployment's.
 */
function pageBrand(ctx: Context, locals: Record<string, unknown>): Brand {
  const portal = locals.portal as { brand?: Brand } | undefined;
  return portal?.brand ?? (ctx.state.deploymentBrand as Brand);
}

export function pageState(ctx: Context): PageState {
  return ctx.state.page as PageState;
}

/** `view` as HTML to place inside another page (a companion step's part of it). */
export function renderPartial(ctx: Context, view: string, locals: Record<string, unknown> = {}): string {
  return template(view)({ ...pageState(ctx), ...locals });
}

/** Renders `view` with `locals` as the response body; pages are never cached. */
export function render(ctx: Context, view: string, locals: Record<string, unknown> = {}, status = 200): void {
  const page = pageState(ctx);
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  const brand = pageBrand(ctx, locals);
  ctx.body = template(view)({ ...page, brand, supportText: supportTextIn(brand, page.lang), ...locals });
}
