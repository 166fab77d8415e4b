// What every console page shares: the signed-in admin (server-side session, an account with a
// grant: the operations' actor), CSRF on every form, the role's menu, and operation refusals
// shown as a page in the admin's language with the operation's status (403, 404, 409, 501...).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { allows, type Actor } from '../operations/actor.ts';
import { OperationError } from '../operations/errors.ts';
import type { AdminSession } from './admin-sessions.ts';
import { render } from '../../web/render.ts';
import { formBody } from '../../web/form.ts';
import { UserFacingError } from '../../web/errors.ts';
import { safeEqual } from '../../accounts/random.ts';
import { readValues, type FormValues } from './console-form.ts';

export type AdminActor = Actor & { kind: 'admin' };

export interface SignedInAdmin {
  actor: AdminActor;
  session: AdminSession;
}

/** The gate (console-routes.ts): the admin, or undefined when it has answered (redirect, 403). */
export type Gate = (ctx: Context) => Promise<SignedInAdmin | undefined>;

/** What the role may see: the menu and whether forms are shown at all (an auditor gets none). */
export function abilities(actor: Actor) {
  return {
    portals: allows(actor, 'portals:read'),
    writePortals: allows(actor, 'portals:write'),
    accounts: allows(actor, 'accounts:read'),
    writeAccounts: allows(actor, 'accounts:write'),
    audit: allows(actor, 'audit:read'),
  };
}

/** Renders an admin page: the menu, the CSRF token and the role's abilities go to every view. */
export function show(ctx: Context, admin: SignedInAdmin, view: string, locals: Record<string, unknown> = {}, status = 200): void {
  render(ctx, `admin/${view}`, { admin: { username: admin.actor.username, role: admin.actor.role, organisations: admin.actor.organisations }, can: abilities(admin.actor), csrf: admin.session.csrf, section: ctx.path.split('/')[2] ?? '', ...locals }, status);
}

/** An operation's refusal as a page; anything else goes on to the app's error pages. */
export function showRefusal(ctx: Context, admin: SignedInAdmin, error: unknown): void {
  if (!(error instanceof OperationError)) throw error;
  show(ctx, admin, 'message', { messageKey: `admin.errors.${error.code}` }, error.status);
}

export class ConsolePages {
  constructor(
    readonly router: Router,
    private readonly gate: Gate,
  ) {}

  /** A GET page for signed-in admins. */
  page(path: string, handler: (ctx: Context, admin: SignedInAdmin) => Promise<void>): void {
    this.router.get(path, async (ctx) => {
      const admin = await this.gate(ctx);
      if (!admin) return;
      try {
        await handler(ctx, admin);
      } catch (error) {
        showRefusal(ctx, admin, error);
      }
    });
  }

  /**
   * A form post: a signed-in admin, the session's CSRF token (checked before anything is read or
   * changed), and a role that changes something at all (an auditor's posts are refused here; the
   * operations refuse the rest by role and organisation). `getUrl`: where the page's language
   * switch leads after the post.
   */
  action(path: string, handler: (ctx: Context, admin: SignedInAdmin, form: FormValues) => Promise<void>): void {
    this.router.post(path, formBody(), async (ctx) => {
      const admin = await this.gate(ctx);
      if (!admin) return;
      const form = readValues(ctx);
      const token = form._csrf;
      if (typeof token !== 'string' || !safeEqual(admin.session.csrf, token)) throw new UserFacingError(403, 'admin.errors.csrf');
      const can = abilities(admin.actor);
      if (!can.writePortals && !can.writeAccounts) {
        show(ctx, admin, 'message', { messageKey: 'admin.errors.forbidden' }, 403);
        return;
      }
      ctx.state.getUrl = ctx.path.replace(/\/(secret|disable|enable|delete|invite|temporary-password|unlock|reset-second-factors|revoke-sessions)$/, '');
      try {
        await handler(ctx, admin, form);
      } catch (error) {
        showRefusal(ctx, admin, error);
      }
    });
  }
}
