// "Verificatiestap 1": the channels the portal offers for recovery (client metadata
// `recovery_methods`), the same page whatever the account has, so it tells nothing about it.
//
// - Phone (Flynth): "Voer het volledige nummer van uw mobiele telefoon (*****56) in". The typed
//   number, normalised, must equal the registered verified one; both are compared as keyed hashes
//   in constant time, and every mismatch is a guess counted per account (or per typed name). An
//   unknown account, or one without a verified phone, shows a stable pseudo-random hint derived
//   from the typed name, and nothing typed matches it. A match records the proof and picks the
//   channel; the SMS or voice factor then sends its code (its own page, "Opnieuw proberen").
// - E-mail link: a random single-use token, stored hashed in this flow, valid
//   policy.recovery.linkTtlSeconds; mailed only when the account exists with a verified address,
//   and the page says the same either way. The mail goes out after the answer (timing).
// - Temporary password (ZINN "Wachtwoord opvragen"): the password lifecycle's temporary password,
//   mailed from the portal's sender; the recovery ends there (the page says to sign in with it) and
//   the login forces the change, after the account's second factor. Issued after the answer too.
// - Mails (link or temporary password) are limited per flow, per account and per client; past a
//   limit the same page comes and nothing is sent.
import type { Step, StepContext, StepOutcome, Form } from '../../../steps/step.ts';
import { limitRule } from '../../../accounts/limits.ts';
import { clientAddressKey } from '../../../accounts/client-address.ts';
import { randomId, safeEqual, sha256 } from '../../../accounts/random.ts';
import { normalisePhone } from '../../../delivery/index.ts';
import { maskPhone } from '../../../log.ts';
import type { RecoveryMethod } from '../../../oidc/client-policy.ts';
import { EMAIL_LINK, PHONE_NUMBER, VERIFY, shared, type RecoveryLink } from '../recovery-state.ts';
import { recoveryAudit } from '../recovery-audit.ts';
import { sendRecoveryLink } from '../recovery-mail.ts';
import { afterResponse } from '../../../request-context.ts';
import { invitedAddress } from '../../../accounts/invitations.ts';

const MAX_PHONE_INPUT = 32;
const PHONE_CHANNELS = ['sms', 'voice'] as const;

function show(status: number, locals: Record<string, unknown> = {}): StepOutcome {
  return { kind: 'show', status, locals };
}

/** The methods this portal offers that can run here (a call needs a number to call from). */
function methodsOf(ctx: StepContext): RecoveryMethod[] {
  return ctx.policy.recoveryMethods.filter((m) => m !== 'voice' || ctx.services.delivery.voiceAvailable);
}

/** The last two digits shown: the account's own, else stable pseudo-random ones from the typed name. */
function hintOf(ctx: StepContext): string {
  const account = ctx.account;
  if (account && account.phoneVerified && account.phoneHint) return account.phoneHint;
  const bytes = ctx.services.keyedHash.bytes('recovery-phone-hint', shared.loginKey(ctx.flowScratch) ?? '');
  return String(bytes.readUInt16BE(0) % 100).padStart(2, '0');
}

async function checkPhone(ctx: StepContext, form: Form): Promise<StepOutcome> {
  const { services } = ctx;
  const { limits, keyedHash, config, accounts } = services;
  const policy = config.policy.recovery;
  const channel = PHONE_CHANNELS.find((c) => c === form.method);
  const typed = (form.phone ?? '').trim().slice(0, MAX_PHONE_INPUT);
  const keep = { phoneInput: typed };
  if (!channel || !methodsOf(ctx).includes(channel)) return show(400, { errors: { phone: 'forgot.errors.method_unknown' }, ...keep });
  if (!typed) return show(400, { errors: { phone: 'forgot.errors.phone_required' }, ...keep });
  const account = ctx.account;
  // Every comparison is a guess: counted first, per account (or per typed name for no account).
  const guessKey = `recovery-phone:${account ? `acct:${account.id}` : `name:${shared.loginKey(ctx.flowScratch) ?? ''}`}`;
  if ((await limits.hit(guessKey, limitRule(policy.phoneGuesses))) < 0) {
    await recoveryAudit(ctx, 'account-recovery.phone_mismatch', account, { outcome: 'limit' });
    return show(429, { errors: { phone: 'forgot.errors.phone_too_many' }, ...keep });
  }
  const normalised = normalisePhone(typed);
  const registered = account && account.phoneVerified ? accounts.phoneOf(account) : null;
  const typedHash = keyedHash.of('recovery-phone', normalised?.e164 ?? `invalid:${typed}`);
  // An unknown account compares against a value no typed number hashes to.
  const registeredHash = registered ? keyedHash.of('recovery-phone', registered) : keyedHash.of('recovery-phone-none', typed);
  if (!safeEqual(typedHash, registeredHash) || !account) {
    await recoveryAudit(ctx, 'account-recovery.phone_mismatch', account, { outcome: 'mismatch' });
    return show(401, { errors: { phone: 'forgot.errors.phone_mismatch' }, ...keep });
  }
  await limits.release(guessKey);
  // Sends cost money: per number and per client, besides the factor's own caps per account.
  const perPhone = await limits.hit(`recovery-send:phone:${typedHash}`, limitRule(policy.sendsPerPhone));
  const perIp = await limits.hit(`recovery-send:ip:${clientAddressKey(ctx.ip)}`, limitRule(policy.sendsPerIp));
  if (perPhone < 0 || perIp < 0) return show(429, { errors: { phone: 'forgot.errors.sends_too_many' }, ...keep });
  ctx.flowScratch.set('channel', channel);
  await recoveryAudit(ctx, 'account-recovery.channel_verified', account, { channel: 'phone-number', outcome: 'matched' });
  return { kind: 'proved', proof: { factor: PHONE_NUMBER, amr: [], strength: 1, at: services.clock.now() } };
}

/**
 * Whether one more recovery mail may go (review of issue 9, finding 2: one solved CAPTCHA bought
 * unlimited mail): at most `mailsPerFlow` in this flow, `mailsPerAccount` per account (an unknown
 * name counts against a decoy key, so both do the same store work) and `mailsPerIp` per client.
 * Every request counts against all three, so the answer past a limit costs what any other does.
 */
async function mailAllowed(ctx: StepContext): Promise<boolean> {
  const { limits, config } = ctx.services;
  const policy = config.policy.recovery;
  const inFlow = (ctx.flowScratch.get<number>('mails') ?? 0) + 1;
  ctx.flowScratch.set('mails', inFlow);
  const accountKey = ctx.account ? `acct:${ctx.account.id}` : `decoy:${shared.loginKey(ctx.flowScratch) ?? ''}`;
  const perAccount = await limits.hit(`recovery-mail:${accountKey}`, limitRule(policy.mailsPerAccount));
  const perIp = await limits.hit(`recovery-mail:ip:${clientAddressKey(ctx.ip)}`, limitRule(policy.mailsPerIp));
  return inFlow <= policy.mailsPerFlow && perAccount >= 0 && perIp >= 0;
}

/**
 * The address a recovery may mail, or undefined (review of issue 9, finding 4). The e-mail link
 * only to a verified address (or the one an invitation went to, below): an unverified one is not
 * known to be the patient's (a practice's typo, an address changed by an operator and not yet
 * confirmed), and the link proves the mailbox.
 * The temporary password also to the unverified address an account that never signed in was
 * registered with: ZINN's first login ("wachtwoord vergeten" → a temporary password) is how such a
 * patient gets in at all, that address is all the practice gave, and the login still asks the
 * second factor. Once the account signed in anywhere, only a verified address gets it. The
 * account's portals are read for every request (a decoy id for an unknown name): the same work.
 */
async function recoveryAddress(ctx: StepContext, method: 'email-link' | 'temp-password'): Promise<string | undefined> {
  const account = ctx.account;
  if (method === 'email-link') {
    // Also to the unverified address an invitation went to: the practice mailed that very address
    // a link, and "Stuur mij een nieuwe link" on an expired invitation leads here (Mijn Therapie
    // Dossier: "Link niet ontvangen/verlopen"). Read from the account record itself: no credential
    // is read before a channel is proved (timing).
    return account && account.email && (account.emailVerified || invitedAddress(account)) ? account.email : undefined;
  }
  const portals = await ctx.services.store.accountPortals.listByAccount(account?.id ?? `decoy:${shared.loginKey(ctx.flowScratch) ?? ''}`);
  if (!account || !account.email) return undefined;
  return account.emailVerified || portals.length === 0 ? account.email : undefined;
}

async function sendLink(ctx: StepContext): Promise<StepOutcome> {
  const { services } = ctx;
  if (!methodsOf(ctx).includes('email-link')) return show(400, { errors: { link: 'forgot.errors.method_unknown' } });
  const allowed = await mailAllowed(ctx);
  const account = ctx.account;
  const address = await recoveryAddress(ctx, 'email-link');
  let outcome = 'limit';
  if (allowed) {
    const token = randomId(32);
    const now = services.clock.now();
    const link: RecoveryLink = { hash: sha256(token), expiresAt: now + services.config.policy.recovery.linkTtlSeconds * 1000, used: false };
    // Stored for an unknown account too (never mailed): the same work and writes either way. Past
    // the limit the link mailed before stays the one that works.
    ctx.flowScratch.set('link', link);
    if (account && address) sendRecoveryLink(ctx, account, token);
    outcome = !account ? 'not_sent' : address ? 'sent' : 'unverified_address';
  }
  await recoveryAudit(ctx, 'account-recovery.link_requested', account, { outcome });
  return show(200, { linkSent: true });
}

async function sendTemporaryPassword(ctx: StepContext): Promise<StepOutcome> {
  const { services, policy } = ctx;
  if (!methodsOf(ctx).includes('temp-password')) return show(400, { errors: { temp: 'forgot.errors.method_unknown' } });
  // Counted before anything is issued: past a limit no argon2 runs and no live temporary password is replaced.
  const allowed = await mailAllowed(ctx);
  const account = ctx.account;
  const address = await recoveryAddress(ctx, 'temp-password');
  let outcome = 'limit';
  if (allowed) {
    if (account && address) {
      const portal = policy.clientId ? { clientId: policy.clientId, name: policy.name, ...(policy.homeUrl ? { loginUrl: policy.homeUrl } : {}), ...(policy.mailFrom ? { mailFrom: policy.mailFrom } : {}) } : undefined;
      const who = { actor: 'patient' as const, ip: ctx.ip, userAgent: ctx.userAgent, clientId: policy.clientId || null };
      // Hashing (argon2) and mailing after the answer: a real account must not answer slower.
      afterResponse(() => services.passwordLifecycle.issueTemporary(account, portal, who).then(
        () => undefined,
        (error: unknown) => services.logger.warn({ err: error instanceof Error ? error.message : String(error), accountId: account.id }, 'temporary password not sent'),
      ));
    }
    outcome = !account ? 'not_sent' : address ? 'sent' : 'unverified_address';
  }
  await recoveryAudit(ctx, 'account-recovery.temporary_password_requested', account, { outcome });
  return show(200, { tempSent: true });
}

async function openLink(ctx: StepContext, form: Form): Promise<StepOutcome> {
  const link = shared.link(ctx.flowScratch);
  const token = (form.token ?? '').slice(0, 100);
  if (!link || !safeEqual(link.hash, sha256(token))) return show(400, { errors: { link: 'forgot.errors.link_invalid' } });
  if (link.used) return show(400, { errors: { link: 'forgot.errors.link_used' } });
  if (link.expiresAt <= ctx.services.clock.now()) return show(400, { errors: { link: 'forgot.errors.link_expired' } });
  ctx.flowScratch.set('link', { ...link, used: true });
  if (!ctx.account) return show(400, { errors: { link: 'forgot.errors.link_invalid' } });
  await recoveryAudit(ctx, 'account-recovery.channel_verified', ctx.account, { channel: 'email-link', outcome: 'opened' });
  return { kind: 'proved', proof: { factor: EMAIL_LINK, amr: [], strength: 1, at: ctx.services.clock.now() } };
}

export const verifyStep: Step = {
  id: VERIFY,
  view: 'flows/recovery/verify',
  actions: ['phone', 'link', 'open-link', 'temp'],
  enter: async () => ({ kind: 'show' }),
  async present(ctx) {
    const methods = methodsOf(ctx);
    return {
      pageTitle: ctx.t('forgot.verify.title'),
      phoneMethods: PHONE_CHANNELS.filter((c) => methods.includes(c)),
      emailLink: methods.includes('email-link'),
      tempPassword: methods.includes('temp-password'),
      loginUrl: ctx.policy.homeUrl,
      hint: maskPhone(hintOf(ctx)),
      linkMinutes: Math.round(ctx.services.config.policy.recovery.linkTtlSeconds / 60),
    };
  },
  async handle(ctx, action, form) {
    if (action === 'phone') return checkPhone(ctx, form);
    if (action === 'link') return sendLink(ctx);
    if (action === 'open-link') return openLink(ctx, form);
    if (action === 'temp') return sendTemporaryPassword(ctx);
    return show(400);
  },
};
