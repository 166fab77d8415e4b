// The console's "Wachtwoord wijzigen" (/account/password): the patient's own password change —
// current, new and confirmation, every rule of the strictest profile among the account's portals
// listed before typing, history respected. Behind the console's step-up like every change there
// (settings-routes.ts requireAccount: strongest factor, fresh, at most ten minutes, never a
// remembered device), and the current password is asked besides: a browser left signed in for a
// few minutes must not be enough to take the account over.
//
// The rules, the revocation and the audit are the password lifecycle's (services.passwordChange,
// via 'account'): a wrong current password counts toward the account's lockout and the change
// form's own limit; on success every other sign-in of the account ends — other sessions, every
// grant with its codes, access and refresh tokens, at every portal, each portal with a back-channel
// logout endpoint told — while the browser session the patient is in stays signed in here
// (`keepSessionUid`). The flow's hooks then mail the notice and forget remembered devices.
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { PasswordFormView } from '../../accounts/password-form.ts';
import { pageState, render } from '../../web/render.ts';
import type { Flow } from '../kit/flow-store.ts';
import type { FlowRunner } from '../kit/runner.ts';
import type { SettingsKind, SettingsRun, SettingsState } from './settings-kind.ts';

export const PASSWORD_PAGE = '/account/password';

export class PasswordPage {
  constructor(
    private readonly services: Services,
    private readonly kind: SettingsKind,
    private readonly runner: FlowRunner<SettingsRun>,
  ) {}

  /** The empty form, with the rules that apply listed. */
  async show(run: SettingsRun): Promise<void> {
    this.render(run.ctx, run.account, run.flow, await this.services.passwordChange.form(run.account, run.policy), 200);
  }

  /** The change itself: the overview saying so, or the form again with what failed (4xx, nothing changed). */
  async change(run: SettingsRun, form: Record<string, string>): Promise<void> {
    const { ctx, account } = run;
    const result = await this.services.passwordChange.change({
      account,
      current: form.current ?? '',
      next: form.new ?? '',
      confirm: form.confirm ?? '',
      policy: run.policy,
      via: 'account',
      ip: ctx.ip || null,
      userAgent: ctx.get('user-agent') || null,
      keepSessionUid: run.sessionUid,
    });
    if (!result.ok) {
      // The language link of a page answering a POST points at the form, not at the overview.
      ctx.state.getUrl = PASSWORD_PAGE;
      this.render(ctx, account, run.flow, result.form, result.status);
      return;
    }
    run.account = (await this.services.accounts.findById(account.id)) ?? account;
    run.events.push({ type: 'password_changed' });
    await this.runner.dispatch(run);
    run.flow.state.notice = pageState(ctx).t('password_change.changed');
    await this.kind.overview(ctx, run.account, run.flow);
  }

  private render(ctx: Context, account: AccountRecord, flow: Flow<SettingsState>, form: PasswordFormView, status: number): void {
    render(ctx, 'flows/account-password', { form, username: account.username, csrf: flow.csrf, flowId: flow.id, action: PASSWORD_PAGE }, status);
  }
}
