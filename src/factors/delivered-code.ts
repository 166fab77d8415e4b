// A second factor that proves possession of a phone or mailbox with a one-time code sent to it.
// SMS, voice and e-mail differ only in where the code goes and how the message is worded (a
// `CodeChannel`); everything else lives here once, on top of accounts/one-time-codes.ts:
// sending on entry, "send again" with its cooldown and hourly cap, a new code voiding the old,
// expiry, single use, attempt limits, clear texts for each refusal, delivery failures as a 503
// part of the page, and enrolment (a phone number entered and proved, or the e-mail address
// proved). Texts come from the channel's own locale namespace (`sms.*`, `voice.*`, `email.*`).
//
// A code is bound to the flow that sent it (the store keeps the flow id) and to the step that sent
// it (the step keeps the send time): a code another flow sent (another browser, another number,
// an abandoned enrolment) does not count here, and is never adopted.
import type { Factor, FactorContext, FactorMode, FactorOutcome, Form } from './factor.ts';
import { NEW_ADDRESS_HINT } from '../steps/step.ts';
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import type { PortalPolicy } from '../oidc/client-policy.ts';
import { translator, type Language, type Translate } from '../i18n/i18n.ts';
import type { CodeCheck } from '../accounts/one-time-codes.ts';
import { codeRefusal } from '../steps/code-refusal.ts';
import { randomId } from '../accounts/random.ts';
import { reportCodeGuessing } from '../accounts/code-guessing-notice.ts';
import { maskPhone } from '../log.ts';
import { DeliveryFailedError, DeliveryUnavailableError, maskMail, normalisePhone } from '../delivery/index.ts';
import { assertSingleMailAddress } from '../delivery/message.ts';
import { codeInputProblem } from '../accounts/code-input.ts';
import { formatSentTime } from '../i18n/sent-time.ts';

/** One code message, already decided: the channel only words and sends it. */
export interface CodeMessage {
  services: Services;
  policy: PortalPolicy;
  account: AccountRecord;
  /** E.164 number or e-mail address. */
  to: string;
  code: string;
  /** Login or enrolment: the wording differs. */
  mode: FactorMode;
  /** The message language (the page's when the patient chose one there, else the account's); `t` speaks it. */
  lang: Language;
  t: Translate;
  sentAt: number;
  /** How long the code stays valid. */
  minutes: number;
}

export interface CodeChannel {
  /** Factor id, also the purpose suffix (`login:sms`) and the locale namespace. */
  id: string;
  amr: readonly string[];
  strength: 1 | 2;
  view: string;
  /** Where codes go: the account's phone number or its e-mail address. */
  address: 'phone' | 'email';
  /** Phone channels: accept only numbers that can receive an SMS. */
  mobileOnly?: boolean;
  /** Credential types that make this factor usable; its own id when absent. */
  credentialTypes?(services: Services): readonly string[];
  /** Sends the message; throws DeliveryFailedError or DeliveryUnavailableError. */
  send(message: CodeMessage): Promise<void>;
}

type Phase = 'phone' | 'code';

/** Scratch keys: the enrolment phase, the number being enrolled (sealed), this flow's code. */
const PHASE = 'phase';
const PENDING_PHONE = 'pendingPhone';

/**
 * The number being enrolled waits in the flow sealed for that flow: one planted in another
 * patient's flow (to make their enrolment save the planter's number) does not open there.
 */
function pendingPhoneContext(flowId: string): string {
  return `phone-pending:${flowId}`;
}
const SENT_AT = 'sentAt';

const MAX_PHONE_INPUT = 32;

type Shown = Extract<FactorOutcome, { kind: 'show' }>;

function show(status: number, locals: Record<string, unknown> = {}): Shown {
  return { kind: 'show', status, locals };
}

/** The mailer refuses anything but one bare address (with a TypeError); such an account has no usable address. */
function isSingleMailAddress(address: string): boolean {
  try {
    assertSingleMailAddress(address);
    return true;
  } catch {
    return false;
  }
}

const NO_ACCOUNT: FactorOutcome = { kind: 'fail', status: 400, messageKey: 'errors.bad_request' };

export function deliveredCodeFactor(channel: CodeChannel): Factor {
  const key = (k: string) => `${channel.id}.${k}`;
  const purposeOf = (mode: FactorMode) => `${mode === 'enrol' ? 'enrol' : 'login'}:${channel.id}`;
  const enrolsPhone = (mode: FactorMode) => mode === 'enrol' && channel.address === 'phone';
  const mask = (to: string) => (channel.address === 'email' ? maskMail(to) : maskPhone(to.slice(-2)));
  const minutesOf = (services: Services) => Math.max(1, Math.round(services.config.policy.codes.ttlSeconds / 60));

  function phaseOf(ctx: FactorContext, mode: FactorMode): Phase {
    return enrolsPhone(mode) && ctx.scratch.get<Phase>(PHASE) === 'phone' ? 'phone' : 'code';
  }

  /** Where this step's codes go: the number being enrolled, else the account's own address. */
  function destinationOf(ctx: FactorContext, account: AccountRecord, mode: FactorMode): string | undefined {
    if (channel.address === 'email') return isSingleMailAddress(account.email) ? account.email : undefined;
    const pending = mode === 'enrol' ? ctx.scratch.get<string>(PENDING_PHONE) : undefined;
    // One that does not open as this flow's counts as none; never the account's number instead.
    if (pending) return ctx.services.box.tryOpenBound(pending, pendingPhoneContext(ctx.flowId));
    return ctx.services.accounts.phoneOf(account) ?? undefined;
  }

  function audit(ctx: FactorContext, account: AccountRecord, type: string, detail: Record<string, unknown>): Promise<void> {
    return ctx.services.audit.record({ type, accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip, detail: { factor: channel.id, ...detail } });
  }

  /**
   * Issues and delivers a code. `field` is where a refusal shows (the resend button, or the phone
   * field during enrolment). A code sent by another flow (another browser, moments ago) is never
   * adopted: within the resend cooldown this step waits, says so, and offers to send its own.
   */
  async function sendCode(
    ctx: FactorContext,
    account: AccountRecord,
    mode: FactorMode,
    to: string,
    how: { field: 'resend' | 'phone'; entering: boolean },
  ): Promise<{ sent: boolean; outcome: Shown }> {
    const { codes } = ctx.services;
    const purpose = purposeOf(mode);
    const permission = await codes.maySend(account.id, purpose);
    if (!permission.ok) {
      await audit(ctx, account, 'factor.code.refused', { purpose, reason: permission.reason });
      if (permission.reason === 'hourly_cap') return { sent: false, outcome: show(429, { errors: { [how.field]: key('errors.hourly_cap') } }) };
      if (how.entering) return { sent: false, outcome: show(200, { retryInSeconds: permission.retryInSeconds }) };
      return { sent: false, outcome: show(429, { errors: { [how.field]: key('errors.cooldown') }, retryInSeconds: permission.retryInSeconds }) };
    }

    const hadCode = ctx.scratch.get<number>(SENT_AT) !== undefined;
    let issued: { sentAt: number };
    try {
      issued = await codes.issue(account.id, purpose, ctx.flowId, (code, sentAt) => channel.send({
        services: ctx.services,
        policy: ctx.policy,
        account,
        to,
        code,
        mode,
        lang: ctx.messageLang,
        t: translator(ctx.messageLang),
        sentAt,
        minutes: minutesOf(ctx.services),
      }));
    } catch (error) {
      if (!(error instanceof DeliveryFailedError) && !(error instanceof DeliveryUnavailableError)) throw error;
      // Counted as a send (so a failing provider is not hammered); the previous code still works.
      const permanent = error instanceof DeliveryFailedError && error.permanent;
      await audit(ctx, account, 'factor.code.delivery_failed', {
        purpose,
        to: mask(to),
        permanent,
        ...(error instanceof DeliveryFailedError && error.providerCode !== undefined ? { providerCode: error.providerCode } : {}),
      });
      const message = permanent ? (how.field === 'phone' ? 'errors.phone_rejected' : 'errors.delivery_rejected') : 'errors.delivery_failed';
      return { sent: false, outcome: show(503, { errors: { [how.field]: key(message) } }) };
    }
    ctx.scratch.set(SENT_AT, issued.sentAt);
    await audit(ctx, account, 'factor.code.sent', { purpose, to: mask(to) });
    // The first code is announced by the page itself; a new one needs saying that the old is void.
    if (how.entering || how.field === 'phone' || !hadCode) return { sent: true, outcome: show(200) };
    return { sent: true, outcome: show(200, { notice: ctx.t(key('notice.resent'), { destination: mask(to), time: formatSentTime(issued.sentAt, ctx.lang) }) }) };
  }

  /** Maps a refused code to the text and status the patient sees. */
  function refusal(check: Exclude<CodeCheck, { ok: true }>, problem: string | undefined): Shown {
    const { status, error, attemptsLeft } = codeRefusal(check, problem);
    return show(status, { errors: { code: key(error) }, ...(attemptsLeft === undefined ? {} : { attemptsLeft }) });
  }

  async function verify(ctx: FactorContext, account: AccountRecord, mode: FactorMode, form: Form): Promise<FactorOutcome> {
    const { codes, clock } = ctx.services;
    const purpose = purposeOf(mode);
    const input = (form.code ?? '').slice(0, 100);
    const problem = codeInputProblem(input);
    // Only the code this step sent counts, wherever else a code for this account came from.
    const check: CodeCheck = await codes.verify(account.id, purpose, { flowId: ctx.flowId, sentAt: ctx.scratch.get<number>(SENT_AT) }, input, channel.address);
    if (!check.ok) {
      await audit(ctx, account, 'factor.code.failed', { purpose, reason: check.reason });
      if (check.budgetSpent) {
        await reportCodeGuessing(ctx.services, account, {
          factor: channel.id, method: (t) => describe(ctx.services, account, t), portal: ctx.policy.name, clientId: ctx.policy.clientId, ip: ctx.ip,
        });
      }
      return refusal(check, problem);
    }
    const to = destinationOf(ctx, account, mode);
    if (mode === 'enrol' && !to) return { kind: 'fail', status: 409, messageKey: key('errors.no_destination') };
    ctx.scratch.clear();
    if (mode === 'enrol' && to) await finishEnrolment(ctx, account, to);
    else await touchCredential(ctx.services, account);
    await audit(ctx, account, 'factor.code.verified', { purpose });
    return { kind: 'proved', proof: { factor: channel.id, amr: channel.amr, strength: channel.strength, at: clock.now() } };
  }

  /** Whether the account's own address of this channel is marked verified. */
  function addressVerified(account: AccountRecord): boolean {
    return channel.address === 'email' ? account.emailVerified : account.phoneVerified && account.phoneEncrypted !== null;
  }

  async function finishEnrolment(ctx: FactorContext, account: AccountRecord, to: string): Promise<void> {
    const { accounts, store, clock } = ctx.services;
    if (channel.address === 'phone') await accounts.setPhone(account, to, true);
    else await accounts.update(account, { emailVerified: true });
    await store.credentials.removeByAccount(account.id, channel.id);
    const now = clock.now();
    await store.credentials.put({ id: randomId(16), accountId: account.id, type: channel.id, data: {}, createdAt: now, lastUsedAt: now });
    await audit(ctx, account, 'factor.enrolled', { to: mask(to) });
  }

  async function touchCredential(services: Services, account: AccountRecord): Promise<void> {
    for (const type of credentialTypes(services)) {
      const [credential] = await services.store.credentials.listByAccount(account.id, type);
      if (credential) {
        await services.store.credentials.put({ ...credential, lastUsedAt: services.clock.now() });
        return;
      }
    }
  }

  const credentialTypes = (services: Services) => channel.credentialTypes?.(services) ?? [channel.id];

  async function describe(_services: Services, account: AccountRecord, t: Translate): Promise<string> {
    return t(key('describe'), { destination: channel.address === 'email' ? maskMail(account.email) : maskPhone(account.phoneHint) });
  }

  async function submitPhone(ctx: FactorContext, account: AccountRecord, form: Form): Promise<FactorOutcome> {
    const typed = (form.phone ?? '').trim().slice(0, MAX_PHONE_INPUT);
    const keep = { phoneInput: typed };
    if (!typed) return show(400, { errors: { phone: key('errors.phone_required') }, ...keep });
    const phone = normalisePhone(form.phone ?? '');
    if (!phone) return show(400, { errors: { phone: key('errors.phone_invalid') }, ...keep });
    if (!phone.personal) return show(400, { errors: { phone: key('errors.phone_not_personal') }, ...keep });
    if (channel.mobileOnly && !phone.isMobile) return show(400, { errors: { phone: key('errors.phone_not_mobile') }, ...keep });
    const { sent, outcome } = await sendCode(ctx, account, 'enrol', phone.e164, { field: 'phone', entering: false });
    if (!sent) return { ...outcome, locals: { ...outcome.locals, ...keep } };
    // Kept sealed in the flow, like every phone number at rest.
    ctx.scratch.set(PENDING_PHONE, ctx.services.box.seal(phone.e164, pendingPhoneContext(ctx.flowId)));
    ctx.scratch.set(PHASE, 'code');
    return outcome;
  }

  return {
    id: channel.id,
    role: 'second',
    positions: ['second'],
    strength: channel.strength,
    view: channel.view,
    actions: channel.address === 'phone' ? ['verify', 'resend', 'phone', 'change'] : ['verify', 'resend'],
    enrollable: true,
    address: channel.address,

    // Whether delivery is configured does not matter here: hiding an enrolled factor because a
    // transport is down would let a login through on the password alone.
    async isEnrolled(services, account) {
      const reachable = channel.address === 'email' ? account.emailVerified && account.email !== '' : account.phoneEncrypted !== null && account.phoneVerified;
      if (!reachable) return false;
      for (const type of credentialTypes(services)) {
        if ((await services.store.credentials.listByAccount(account.id, type)).length > 0) return true;
      }
      return false;
    },

    describe,

    async enter(ctx, mode) {
      const account = ctx.account;
      if (!account) return NO_ACCOUNT;
      const newNumber = ctx.scratch.get<boolean>(NEW_ADDRESS_HINT) === true;
      ctx.scratch.clear();
      // A new number asked for (the account console's "change phone number"): no code to the old one.
      if (enrolsPhone(mode) && newNumber) {
        ctx.scratch.set(PHASE, 'phone');
        return { kind: 'show' };
      }
      if (enrolsPhone(mode)) {
        // A number the account already has is used straight away ("change number" is on the page).
        const current = ctx.services.accounts.phoneOf(account);
        const known = current === null ? undefined : normalisePhone(current);
        const usable = known?.personal === true && (!channel.mobileOnly || known.isMobile);
        if (!usable) {
          ctx.scratch.set(PHASE, 'phone');
          return { kind: 'show' };
        }
      }
      const to = destinationOf(ctx, account, mode);
      if (!to) return { kind: 'fail', status: 409, messageKey: key('errors.no_destination') };
      // The account's own address, proved in this very flow (an activation's invitation link, its
      // phone check): a second code to it would prove nothing new (Mijn Therapie Dossier: "je
      // e-mailadres is reeds geverifieerd", choosing e-mail finishes at once).
      if (mode === 'enrol' && ctx.provedAddresses?.includes(channel.address) && addressVerified(account)) {
        await finishEnrolment(ctx, account, to);
        return { kind: 'proved', proof: { factor: channel.id, amr: channel.amr, strength: channel.strength, at: ctx.services.clock.now() } };
      }
      return (await sendCode(ctx, account, mode, to, { field: 'resend', entering: true })).outcome;
    },

    async present(ctx, mode) {
      const account = ctx.account;
      const phase = phaseOf(ctx, mode);
      const to = account && phase === 'code' ? destinationOf(ctx, account, mode) : undefined;
      const mine = ctx.scratch.get<number>(SENT_AT);
      const since = account && phase === 'code' ? await ctx.services.codes.activeFor(account.id, purposeOf(mode), ctx.flowId) : undefined;
      // This step's own code is live: the page says where it went. Otherwise nothing was sent for
      // this step yet (another flow asked moments ago): the page says how long to wait instead.
      const sent = since !== undefined && since === mine;
      const permission = account && phase === 'code' && !sent ? await ctx.services.codes.maySend(account.id, purposeOf(mode)) : undefined;
      const titleKey = mode === 'challenge' ? 'challenge.title' : phase === 'phone' ? 'enrol.phone_title' : 'enrol.title';
      // A portal whose patients know the code by another word ("sessiecode") gets it on the page
      // too, as in its SMS and mail; enrolment keeps the plain word (it is not the portal's login).
      const word = mode === 'challenge' && ctx.policy.brand.codeName !== 'code' ? ctx.policy.brand.codeName : undefined;
      return {
        ns: channel.id,
        phase,
        pageTitle: word ? ctx.t(key('challenge.title_named'), { the: ctx.t(`brand.code_name.${word}.the`) }) : ctx.t(key(titleKey)),
        codeLabel: word ? ctx.t(key('code_label_named'), { Noun: ctx.t(`brand.code_name.${word}.Noun`) }) : ctx.t(key('code_label')),
        destination: to ? mask(to) : undefined,
        sent,
        sentAt: sent ? formatSentTime(since, ctx.lang) : undefined,
        retryInSeconds: permission && !permission.ok && permission.reason === 'cooldown' ? permission.retryInSeconds : undefined,
        minutes: minutesOf(ctx.services),
        canChangePhone: enrolsPhone(mode),
      };
    },

    async handle(ctx, action, form, mode) {
      const account = ctx.account;
      if (!account) return NO_ACCOUNT;
      if (enrolsPhone(mode)) {
        if (action === 'phone') return submitPhone(ctx, account, form);
        if (action === 'change') {
          ctx.scratch.set(PHASE, 'phone');
          ctx.scratch.set(PENDING_PHONE, undefined);
          return { kind: 'show' };
        }
        if (phaseOf(ctx, mode) === 'phone') return show(400, { errors: { phone: key('errors.phone_required') } });
      }
      if (action === 'verify') return verify(ctx, account, mode, form);
      if (action === 'resend') {
        const to = destinationOf(ctx, account, mode);
        if (!to) return { kind: 'fail', status: 409, messageKey: key('errors.no_destination') };
        return (await sendCode(ctx, account, mode, to, { field: 'resend', entering: false })).outcome;
      }
      return show(400);
    },
  };
}
