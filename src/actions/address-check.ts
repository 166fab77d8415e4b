// Proving the e-mail address or phone number already on the account by a code sent to it: the page
// of verify-email and verify-phone. The codes are accounts/one-time-codes.ts's (bound to this flow
// and the send time this step remembers, single use, attempt and send limits); a failed send keeps
// the previous code. Only the address on the account is used: a required action never binds a new
// one (that needs the binding rule of policy/proof-rules.ts, as enrolling a factor does).
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import type { PortalPolicy } from '../oidc/client-policy.ts';
import type { Step, StepContext } from '../steps/step.ts';
import type { CodeCheck } from '../accounts/one-time-codes.ts';
import { codeRefusal } from '../steps/code-refusal.ts';
import { codeInputProblem } from '../accounts/code-input.ts';
import { reportCodeGuessing } from '../accounts/code-guessing-notice.ts';
import { translator, type Language, type Translate } from '../i18n/i18n.ts';
import { formatSentTime } from '../i18n/sent-time.ts';
import { DeliveryFailedError, DeliveryUnavailableError, maskMail } from '../delivery/index.ts';
import { maskPhone } from '../log.ts';
import type { ActionOutcome } from './action.ts';

export interface AddressCheck {
  /** The action's id: also its locale namespace and its view (`actions/<id>`). */
  id: string;
  address: 'email' | 'phone';
  /** Sends the code to `to`; throws DeliveryFailedError or DeliveryUnavailableError. */
  send(message: { services: Services; policy: PortalPolicy; account: AccountRecord; to: string; code: string; sentAt: number; lang: Language; t: Translate; minutes: number }): Promise<void>;
  /** Records that the address was proved. */
  verified(services: Services, account: AccountRecord): Promise<void>;
}

const SENT_AT = 'sentAt';

type Shown = Extract<ActionOutcome, { kind: 'show' }>;

const show = (status: number, locals: Record<string, unknown> = {}): Shown => ({ kind: 'show', status, locals });

export function addressCheckPage(check: AddressCheck): Step<ActionOutcome> {
  const key = (k: string) => `${check.id}.${k}`;
  const purpose = check.id;
  const minutesOf = (services: Services) => Math.max(1, Math.round(services.config.policy.codes.ttlSeconds / 60));
  const mask = (to: string) => (check.address === 'email' ? maskMail(to) : maskPhone(to.slice(-2)));

  function destinationOf(ctx: StepContext): string | undefined {
    const account = ctx.account;
    if (!account) return undefined;
    if (check.address === 'email') return account.email || undefined;
    return ctx.services.accounts.phoneOf(account) ?? undefined;
  }

  function audit(ctx: StepContext, account: AccountRecord, type: string, detail: Record<string, unknown> = {}): Promise<void> {
    return ctx.services.audit.record({ type, accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip, detail: { action: check.id, ...detail } });
  }

  /** Sends a code unless the cooldown or the hourly cap says no; `entering`: the page's first send. */
  async function sendCode(ctx: StepContext, account: AccountRecord, to: string, entering: boolean): Promise<Shown> {
    const { codes } = ctx.services;
    const permission = await codes.maySend(account.id, purpose);
    if (!permission.ok) {
      if (permission.reason === 'hourly_cap') return show(429, { errors: { resend: key('errors.hourly_cap') } });
      if (entering) return show(200, { retryInSeconds: permission.retryInSeconds });
      return show(429, { errors: { resend: key('errors.cooldown') }, retryInSeconds: permission.retryInSeconds });
    }
    const resend = ctx.scratch.get<number>(SENT_AT) !== undefined;
    try {
      const issued = await codes.issue(account.id, purpose, ctx.flowId, (code, sentAt) => check.send({
        services: ctx.services, policy: ctx.policy, account, to, code, sentAt, lang: ctx.messageLang, t: translator(ctx.messageLang), minutes: minutesOf(ctx.services),
      }));
      ctx.scratch.set(SENT_AT, issued.sentAt);
      await audit(ctx, account, 'action.code.sent', { to: mask(to) });
      return resend ? show(200, { notice: ctx.t(key('resent'), { destination: mask(to), time: formatSentTime(issued.sentAt, ctx.lang) }) }) : show(200);
    } catch (error) {
      if (!(error instanceof DeliveryFailedError) && !(error instanceof DeliveryUnavailableError)) throw error;
      await audit(ctx, account, 'action.code.delivery_failed', { to: mask(to) });
      return show(503, { errors: { resend: key('errors.delivery_failed') } });
    }
  }

  function refusal(check: Exclude<CodeCheck, { ok: true }>, input: string): Shown {
    const { status, error, attemptsLeft } = codeRefusal(check, codeInputProblem(input));
    return show(status, { errors: { code: key(error) }, ...(attemptsLeft === undefined ? {} : { attemptsLeft }) });
  }

  const noAddress: ActionOutcome = { kind: 'fail', status: 409, messageKey: key('errors.no_address') };

  return {
    id: check.id,
    view: `actions/${check.id}`,
    actions: ['verify', 'resend'],

    async enter(ctx) {
      const to = destinationOf(ctx);
      if (!ctx.account || !to) return noAddress;
      ctx.scratch.clear();
      return sendCode(ctx, ctx.account, to, true);
    },

    async present(ctx) {
      const to = destinationOf(ctx);
      const account = ctx.account;
      const mine = ctx.scratch.get<number>(SENT_AT);
      const since = account ? await ctx.services.codes.activeFor(account.id, purpose, ctx.flowId) : undefined;
      const sent = since !== undefined && since === mine;
      const permission = account && !sent ? await ctx.services.codes.maySend(account.id, purpose) : undefined;
      return {
        ns: check.id,
        pageTitle: ctx.t(key('title')),
        destination: to ? mask(to) : undefined,
        sent,
        sentAt: sent ? formatSentTime(since, ctx.lang) : undefined,
        retryInSeconds: permission && !permission.ok && permission.reason === 'cooldown' ? permission.retryInSeconds : undefined,
        minutes: minutesOf(ctx.services),
      };
    },

    async handle(ctx, action, form) {
      const account = ctx.account;
      const to = destinationOf(ctx);
      if (!account || !to) return noAddress;
      if (action === 'resend') return sendCode(ctx, account, to, false);
      const input = (form.code ?? '').slice(0, 100);
      const result = await ctx.services.codes.verify(account.id, purpose, { flowId: ctx.flowId, sentAt: ctx.scratch.get<number>(SENT_AT) }, input, check.address);
      if (!result.ok) {
        await audit(ctx, account, 'action.code.failed', { reason: result.reason });
        // The address's code budget is spent (shared with the factor that sends codes there): the patient hears of it.
        if (result.budgetSpent) {
          await reportCodeGuessing(ctx.services, account, {
            factor: check.id, method: async (t) => t(key('method'), { destination: mask(to) }), portal: ctx.policy.name, clientId: ctx.policy.clientId, ip: ctx.ip,
          });
        }
        return refusal(result, input);
      }
      await check.verified(ctx.services, account);
      ctx.scratch.clear();
      await audit(ctx, account, 'action.address.verified', { to: mask(to) });
      return { kind: 'done' };
    },
  };
}
