// Console pages for patient accounts: search (cursor paging), create, the account's page with its
// audit trail, and the security actions (invite, temporary password, disable/enable, unlock, reset
// second factors, revoke sessions), each one call of the account operations. An operation's
// answer is shown on the account's page; its refusal as a message page (console-kit.ts).
import type { Context } from 'koa';
import type { AdminOperations } from '../operations/index.ts';
import { allows } from '../operations/actor.ts';
import { OperationError } from '../operations/errors.ts';
import { pageState } from '../../web/render.ts';
import { show, type ConsolePages, type SignedInAdmin } from './console-kit.ts';
import { fieldErrors, list, text, type FormValues } from './console-form.ts';

const ACCOUNT_FIELDS = ['username', 'email', 'phone', 'given_name', 'family_name', 'locale', 'organisations'] as const;

/** A query value as the operations take it (one string), or absent. */
const one = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export function accountPages(pages: ConsolePages, operations: AdminOperations): void {
  async function showAccount(ctx: Context, admin: SignedInAdmin, notice?: { key: string; params?: Record<string, string> }, status = 200): Promise<void> {
    const id = ctx.params.id ?? '';
    const { account } = await operations.accounts.get(admin.actor, id);
    const trail = await operations.audit.accountTrail(admin.actor, id, { ...(one(ctx.query.cursor) ? { cursor: one(ctx.query.cursor) } : {}), limit: '20' });
    const portals = allows(admin.actor, 'portals:read') ? await operations.portals.list(admin.actor) : [];
    show(ctx, admin, 'account', { account, trail, portals, notice }, status);
  }

  async function showForm(ctx: Context, admin: SignedInAdmin, values: FormValues, errors: Record<string, string> = {}, status = 200): Promise<void> {
    show(ctx, admin, 'account-new', { values, errors, organisations: await operations.organisations.list(admin.actor) }, status);
  }

  pages.page('/admin/accounts', async (ctx, admin) => {
    const q = one(ctx.query.q);
    const cursor = one(ctx.query.cursor);
    const found = await operations.accounts.search(admin.actor, { ...(q ? { q } : {}), ...(cursor ? { cursor } : {}), limit: '25' });
    show(ctx, admin, 'accounts', { q: q ?? '', found });
  });

  pages.page('/admin/accounts/new', async (ctx, admin) => {
    await showForm(ctx, admin, { locale: 'nl' });
  });

  pages.action('/admin/accounts', async (ctx, admin, form) => {
    const input = Object.fromEntries(Object.entries({
      username: text(form, 'username') ?? '', email: text(form, 'email') ?? '', phone: text(form, 'phone'), given_name: text(form, 'given_name'),
      family_name: text(form, 'family_name'), locale: text(form, 'locale'), organisations: list(form, 'organisations').length ? list(form, 'organisations') : undefined,
    }).filter(([, value]) => value !== undefined));
    try {
      const { account } = await operations.accounts.create(admin.actor, input);
      ctx.params.id = account.id;
      await showAccount(ctx, admin, { key: 'admin.account.created' }, 201);
    } catch (error) {
      if (!(error instanceof OperationError) || (error.code !== 'invalid_input' && error.code !== 'conflict')) throw error;
      const problems = error.problems.length ? error.problems : [{ field: error.message.includes('e-mail') ? 'email' : 'username', message: error.message }];
      await showForm(ctx, admin, form, fieldErrors(problems, pageState(ctx).t, ACCOUNT_FIELDS, 'username'), error.status);
    }
  });

  pages.page('/admin/accounts/:id', async (ctx, admin) => {
    await showAccount(ctx, admin);
  });

  /** The portal a mail is sent for (its name and sender), when the admin chose one. */
  const portalChoice = (form: FormValues) => (text(form, 'client_id') ? { client_id: text(form, 'client_id') } : {});

  const actions: Record<string, (admin: SignedInAdmin, id: string, form: FormValues) => Promise<{ key: string; params?: Record<string, string> }>> = {
    invite: async (admin, id, form) => {
      const sent = await operations.accountSecurity.invite(admin.actor, id, portalChoice(form));
      return { key: 'admin.account.done.invited', params: { to: sent.sentTo } };
    },
    'temporary-password': async (admin, id, form) => {
      const issued = await operations.accountSecurity.temporaryPassword(admin.actor, id, portalChoice(form));
      return { key: 'admin.account.done.temporary_password', params: { to: issued.sentTo } };
    },
    disable: async (admin, id) => ({ key: `admin.account.done.${(await operations.accountSecurity.setStatus(admin.actor, id, 'disabled')).outcome}` }),
    enable: async (admin, id) => ({ key: `admin.account.done.${(await operations.accountSecurity.setStatus(admin.actor, id, 'active')).outcome}` }),
    unlock: async (admin, id) => ({ key: `admin.account.done.${(await operations.accountSecurity.unlock(admin.actor, id)).outcome}` }),
    'reset-second-factors': async (admin, id) => {
      const { noticeSent } = await operations.accountSecurity.resetSecondFactors(admin.actor, id);
      return { key: noticeSent ? 'admin.account.done.reset_told' : 'admin.account.done.reset' };
    },
    'revoke-sessions': async (admin, id) => ({ key: 'admin.account.done.revoked', params: { count: String((await operations.accountSecurity.revokeSessions(admin.actor, id)).revoked) } }),
  };

  for (const [name, run] of Object.entries(actions)) {
    pages.action(`/admin/accounts/:id/${name}`, async (ctx, admin, form) => {
      const notice = await run(admin, ctx.params.id ?? '', form);
      await showAccount(ctx, admin, notice);
    });
  }
}
