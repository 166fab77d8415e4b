// Chooses the page language: an explicit choice (?lang=, remembered in a cookie) wins, then the
// portal's ui_locales hint, then Dutch. Accept-Language is not used: the patients are Dutch and
// many browsers here say en-US; the switch is one click on every page.
import type { Middleware, Context } from 'koa';
import { DEFAULT_LANGUAGE, isLanguage, pickLanguage, translator, type Language } from '../i18n/i18n.ts';
import type { PageState } from './render.ts';

export const LANGUAGE_COOKIE = 'pw_lang';

/**
 * The request path as a path on this site. A path may start with `//evil.example` (or `/\`), which
 * a browser would read as another host: the link is built from the path with its leading slashes
 * folded into one, never by resolving the raw URL.
 */
export function sitePath(path: string): string {
  return `/${path.replace(/^[/\\]+/, '')}`;
}

function switchUrl(ctx: Context, lang: Language): string {
  // After a POST the same page is reached again by GET: drop the action part of the path.
  if (ctx.method !== 'GET') return `${sitePath(typeof ctx.state.getUrl === 'string' ? ctx.state.getUrl : ctx.path)}?lang=${lang}`;
  const query = new URLSearchParams(ctx.querystring);
  query.set('lang', lang);
  return `${sitePath(ctx.path)}?${query.toString()}`;
}

function applyLanguage(page: PageState, lang: Language): PageState {
  page.lang = lang;
  page.t = translator(lang);
  page.otherLang = lang === 'nl' ? 'en' : 'nl';
  return page;
}

export function setLanguage(ctx: Context, lang: Language): void {
  applyLanguage(ctx.state.page as PageState, lang);
}

/** Page state whose costly parts (nonce, switch link) are made only when a page is rendered. */
function lazyPageState(ctx: Context): PageState {
  const page = {} as PageState;
  Object.defineProperty(page, 'nonce', { enumerable: true, get: () => ctx.state.nonce as string });
  Object.defineProperty(page, 'switchUrl', { enumerable: true, get: () => switchUrl(ctx, page.otherLang) });
  return page;
}

export function language(): Middleware {
  // Worked out on first use: only rendered pages need a language, JSON endpoints do not.
  function choose(ctx: Context): PageState {
    const query = ctx.query.lang;
    let lang: Language;
    if (isLanguage(query)) {
      lang = query;
      ctx.cookies.set(LANGUAGE_COOKIE, lang, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 365 * 24 * 3600 * 1000, signed: false });
    } else {
      const cookie = ctx.cookies.get(LANGUAGE_COOKIE, { signed: false });
      const uiLocales = typeof ctx.query.ui_locales === 'string' ? ctx.query.ui_locales : undefined;
      lang = (isLanguage(cookie) ? cookie : pickLanguage([uiLocales])) ?? DEFAULT_LANGUAGE;
    }
    return applyLanguage(lazyPageState(ctx), lang);
  }
  return async (ctx, next) => {
    let page: PageState | undefined;
    Object.defineProperty(ctx.state, 'page', { enumerable: true, configurable: true, get: () => (page ??= choose(ctx)) });
    await next();
  };
}

/** Whether the visitor chose a language themselves (then a portal's ui_locales must not override it). */
export function languageChosen(ctx: Context): boolean {
  return isLanguage(ctx.query.lang) || isLanguage(ctx.cookies.get(LANGUAGE_COOKIE, { signed: false }));
}

/**
 * The language for a message to the patient (SMS, call, e-mail): the page's when they chose one
 * on the page, otherwise the account's own (a portal's ui_locales hint is not their choice).
 */
export function messageLanguage(ctx: Context, accountLocale: string | undefined): Language {
  const page = ctx.state.page as PageState;
  if (languageChosen(ctx)) return page.lang;
  return isLanguage(accountLocale) ? accountLocale : page.lang;
}
