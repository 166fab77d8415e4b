// Console pages for portals: the list, registration (the secret shown once, on the answer page
// only), the portal's page, secret rotation with the grace period, disable/enable, delete after a
// confirmation page. Every change is one call of the portal operations.
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import { pageState } from '../../web/render.ts';
import type { AdminOperations } from '../operations/index.ts';
import { OperationError } from '../operations/errors.ts';
import { show, type ConsolePages, type SignedInAdmin } from './console-kit.ts';
import { fieldErrors, type FormValues } from './console-form.ts';
import { PORTAL_CHOICES, PORTAL_DEFAULTS, PORTAL_FIELDS, portalInput } from './portal-form.ts';

export function portalPages(pages: ConsolePages, operations: AdminOperations, services: Services): void {
  async function showForm(ctx: Context, admin: SignedInAdmin, values: FormValues, errors: Record<string, string> = {}, status = 200): Promise<void> {
    const organisations = await operations.organisations.list(admin.actor);
    const profiles = (await services.passwordProfiles.list()).map((profile) => profile.name);
    // Only an operator may register an API (service) client (the operation refuses the others).
    const operator = admin.actor.role === 'operator';
    const types = operator ? PORTAL_CHOICES.types : PORTAL_CHOICES.types.filter((type) => type !== 'service');
    // Likewise a first-party portal (no consent screen): the field is an operator's only.
    show(ctx, admin, 'portal-new', { values, errors, firstPartyChoice: operator, choices: { ...PORTAL_CHOICES, types, scopes: operator ? PORTAL_CHOICES.scopes : [], organisations, profiles } }, status);
  }

  pages.page('/admin/portals', async (ctx, admin) => {
    show(ctx, admin, 'portals', { portals: await operations.portals.list(admin.actor) });
  });

  pages.page('/admin/portals/new', async (ctx, admin) => {
    const { first_party: _firstParty, ...forPractice } = PORTAL_DEFAULTS;
    await showForm(ctx, admin, admin.actor.role === 'operator' ? PORTAL_DEFAULTS : forPractice);
  });

  pages.action('/admin/portals', async (ctx, admin, form) => {
    try {
      const { portal, clientSecret } = await operations.portals.register(admin.actor, portalInput(form));
      show(ctx, admin, 'portal-secret', { portal, clientSecret, registered: true });
    } catch (error) {
      if (!(error instanceof OperationError) || error.code !== 'invalid_input') throw error;
      const { t } = pageState(ctx);
      await showForm(ctx, admin, form, fieldErrors(error.problems.length ? error.problems : [{ field: 'form', message: error.message }], t, PORTAL_FIELDS), 400);
    }
  });

  pages.page('/admin/portals/:id', async (ctx, admin) => {
    const { portal } = await operations.portals.get(admin.actor, ctx.params.id ?? '');
    show(ctx, admin, 'portal', { portal });
  });

  pages.action('/admin/portals/:id/secret', async (ctx, admin) => {
    const { portal, clientSecret, previousValidUntil } = await operations.portals.rotateSecret(admin.actor, ctx.params.id ?? '');
    show(ctx, admin, 'portal-secret', { portal, clientSecret, previousValidUntil: previousValidUntil === null ? null : new Date(previousValidUntil).toISOString() });
  });

  for (const action of ['disable', 'enable'] as const) {
    pages.action(`/admin/portals/:id/${action}`, async (ctx, admin) => {
      const { portal } = await operations.portals.setDisabled(admin.actor, ctx.params.id ?? '', action === 'disable');
      show(ctx, admin, 'portal', { portal, notice: `admin.portal.done.${action}d` });
    });
  }

  pages.page('/admin/portals/:id/delete', async (ctx, admin) => {
    const { portal } = await operations.portals.get(admin.actor, ctx.params.id ?? '');
    show(ctx, admin, 'portal-delete', { portal });
  });

  pages.action('/admin/portals/:id/delete', async (ctx, admin) => {
    const id = ctx.params.id ?? '';
    await operations.portals.remove(admin.actor, id);
    show(ctx, admin, 'portals', { portals: await operations.portals.list(admin.actor), notice: 'admin.portal.deleted', noticeParams: { id } });
  });
}
