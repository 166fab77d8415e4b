// Passkeys (WebAuthn) as a factor. One factor, two positions:
//  - first: "Inloggen met een passkey" and the username field's autofill, beside the password
//    (a companion step on the password page). User verification required: the passkey alone is
//    then multi-factor (amr hwk/swk + user + mfa, never pwd). The passkey names the account.
//  - second: after the password, only the account's own passkeys, user verification preferred.
// Enrolment (in a login or on /account) is a registration followed by a sign-in with the new
// passkey: attestation `none` signs nothing over the challenge, so the registration alone proves
// nothing. The new passkey is stored only once that sign-in verified.
//
// Every ceremony's challenge lives in the step's scratch (the flow), for one attempt and at most 5
// minutes; it is saved spent before the response is verified. Failures are audited and counted
// (a closed dialog is neither: the patient's browser said so), and answered with a 4xx and the
// failure's own text beside the other methods.
import type { Factor, FactorContext, FactorOutcome, Form } from '../factor.ts';
import { clientAddressKey } from '../../accounts/client-address.ts';
import { limitRule } from '../../accounts/limits.ts';
import { Passkeys } from './passkeys.ts';
import { newPasskeyChallenge, readPasskeyChallenge, PASSKEY_CHALLENGE_TTL_MS, type PasskeyChallenge, type PasskeyUse } from './passkey-challenge.ts';
import { passkeyAuthenticationOptions, passkeyRegistrationOptions } from './passkey-options.ts';
import { PASSKEY_FAILURES, type PasskeyFailure } from './passkey-failure.ts';
import { registrationAuditEvents, signInAuditEvents, type PasskeyAuditEvent } from './passkey-audit.ts';
import { ceremonyError } from './passkey-response.ts';
import { defaultPasskeyName, normalisePasskeyName } from './passkey-name.ts';
import { verifyPasskeyRegistration } from './verify-registration.ts';
import { verifyPasskeyAuthentication } from './verify-authentication.ts';
import { passkeyRecord, readPasskeyData, type PasskeyCredentialData } from './passkey-credential.ts';
import { userHandleFor } from './passkey-store.ts';
import { PASSKEY_FACTOR_ID } from './passkey-proof.ts';
import { passkeySettings } from './passkey-settings.ts';
import { reportPasskeyClone } from './passkey-clone-notice.ts';

const CHALLENGE = 'challenge';
/** Enrolment: the verified registration, waiting for the sign-in that proves it. */
const PENDING = 'pending';

interface Pending {
  data: PasskeyCredentialData;
}

/** Which ceremony the step runs now, from the mode, the account and the enrolment's phase. */
function ceremonyOf(ctx: FactorContext, mode: 'challenge' | 'enrol'): { ceremony: 'registration' | 'authentication'; use: PasskeyUse } {
  if (mode === 'enrol') return { ceremony: ctx.scratch.get<Pending>(PENDING) ? 'authentication' : 'registration', use: 'second-factor' };
  return { ceremony: 'authentication', use: ctx.account ? 'second-factor' : 'passwordless' };
}

/** The challenge kept for this ceremony if it can still be answered; otherwise a new one. */
function liveChallenge(ctx: FactorContext, mode: 'challenge' | 'enrol', userHandle: () => Promise<string>): Promise<PasskeyChallenge> | PasskeyChallenge {
  const { ceremony, use } = ceremonyOf(ctx, mode);
  const now = ctx.services.clock.now();
  const accountId = use === 'passwordless' ? null : ctx.account?.id ?? null;
  const kept = readPasskeyChallenge(ctx.scratch.get(CHALLENGE));
  // A minute of margin: a page shown now must not expire while the patient looks at it.
  const usable = kept && kept.usedAt === null && kept.ceremony === ceremony && kept.use === use && kept.accountId === accountId
    && kept.flowId === ctx.flowId && now - kept.createdAt < PASSKEY_CHALLENGE_TTL_MS - 60_000;
  if (usable) return kept;
  const make = (handle: string | null) => {
    const challenge = newPasskeyChallenge({ ceremony, use, flowId: ctx.flowId, accountId, userHandle: handle, now });
    ctx.scratch.set(CHALLENGE, challenge);
    return challenge;
  };
  return ceremony === 'registration' ? userHandle().then(make) : make(null);
}

/**
 * Spends the kept challenge and saves the flow before the response is looked at (the flow store
 * has no compare-and-swap: a second post of the same response then finds it spent). Returns the
 * challenge as it was, for the verification to check.
 */
async function spendChallenge(ctx: FactorContext): Promise<unknown> {
  const kept = ctx.scratch.get(CHALLENGE);
  const challenge = readPasskeyChallenge(kept);
  if (challenge && challenge.usedAt === null) {
    ctx.scratch.set(CHALLENGE, { ...challenge, usedAt: ctx.services.clock.now() });
    await ctx.persist();
  }
  return kept;
}

function failureKey(ctx: FactorContext): string {
  return ctx.account ? `passkey-fail:acct:${ctx.account.id}` : `passkey-fail:ip:${clientAddressKey(ctx.ip)}`;
}

async function audit(ctx: FactorContext, events: readonly PasskeyAuditEvent[]): Promise<void> {
  for (const event of events) await ctx.services.audit.record({ ...event, clientId: ctx.policy.clientId, ip: ctx.ip });
}

/** A failed ceremony: counted, and the page again with its text (beside the other methods). */
async function failed(ctx: FactorContext, reason: PasskeyFailure, alreadyAudited: boolean, events: readonly PasskeyAuditEvent[] = []): Promise<FactorOutcome> {
  if (!alreadyAudited) await audit(ctx, events);
  await ctx.services.limits.hit(failureKey(ctx), limitRule(ctx.services.config.policy.passkeys.failures));
  const info = PASSKEY_FAILURES[reason];
  return { kind: 'show', status: info.status, locals: { errors: { passkey: info.messageKey } } };
}

async function tooMany(ctx: FactorContext): Promise<boolean> {
  return ctx.services.limits.exhausted(failureKey(ctx), limitRule(ctx.services.config.policy.passkeys.failures));
}

/** A closed or failed browser dialog: the page again, with the explanation and the other methods. Not a failed attempt. */
function dialogClosed(kind: string, registering: boolean): FactorOutcome {
  const key = kind === 'exists' ? 'passkey.errors.exists' : kind === 'failed' ? 'passkey.errors.failed' : registering ? 'passkey.errors.register_cancelled' : 'passkey.errors.cancelled';
  return { kind: 'show', status: 400, locals: { errors: { passkey: key } } };
}

async function signIn(ctx: FactorContext, form: Form): Promise<FactorOutcome> {
  const { services } = ctx;
  const passkeys = Passkeys.from(services);
  const use: PasskeyUse = ctx.account ? 'second-factor' : 'passwordless';
  const closed = ceremonyError(form);
  if (closed) return dialogClosed(closed, false);
  if (await tooMany(ctx)) return { kind: 'show', status: 429, locals: { errors: { passkey: 'passkey.errors.too_many' } } };
  const challenge = await spendChallenge(ctx);
  const accountId = ctx.account?.id ?? null;
  const outcome = await passkeys.finishAuthentication({ use, flowId: ctx.flowId, accountId, challenge, response: form.passkey_response });
  await audit(ctx, signInAuditEvents(accountId, outcome));
  if (!outcome.ok && outcome.clone) await reportPasskeyClone(services, outcome.clone, ctx.policy.name);
  if (!outcome.ok) return failed(ctx, outcome.reason, true);
  const account = ctx.account ?? (await services.accounts.findById(outcome.accountId));
  if (!account) return failed(ctx, 'unknown-credential', true);
  if (account.status !== 'active') return { kind: 'fail', status: 403, messageKey: 'password.errors.account_disabled' };
  await services.limits.reset(failureKey(ctx));
  ctx.scratch.clear();
  return { kind: 'proved', proof: { ...outcome.proof, amr: [...outcome.proof.amr] }, ...(ctx.account ? {} : { account }) };
}

async function register(ctx: FactorContext, form: Form): Promise<FactorOutcome> {
  const { services, account } = ctx;
  if (!account) return { kind: 'fail', status: 409, messageKey: 'passkey.errors.no_account' };
  const closed = ceremonyError(form);
  if (closed) return dialogClosed(closed, true);
  const name = normalisePasskeyName(form.passkey_name);
  if (!name.ok) return { kind: 'show', status: 400, locals: { errors: { passkey_name: 'passkey.errors.name_too_long' }, passkeyName: (form.passkey_name ?? '').slice(0, 200) } };
  if (await tooMany(ctx)) return { kind: 'show', status: 429, locals: { errors: { passkey: 'passkey.errors.too_many' } } };
  const challenge = await spendChallenge(ctx);
  const verified = await verifyPasskeyRegistration({
    rp: Passkeys.from(services).rp, challenge, flowId: ctx.flowId, use: 'second-factor', now: services.clock.now(),
    accountId: account.id, response: form.passkey_response, name: name.name ?? defaultPasskeyName(ctx.userAgent, ctx.t),
  });
  if (!verified.ok) return failed(ctx, verified.reason, false, registrationAuditEvents(account.id, verified));
  // Registered already (to this account or another): storing it later would overwrite that passkey.
  if (await Passkeys.from(services).credentials.find(verified.passkey.credentialId)) {
    return failed(ctx, 'already-registered', false, registrationAuditEvents(account.id, { ok: false, reason: 'already-registered' }));
  }
  ctx.scratch.set(PENDING, { data: verified.passkey } satisfies Pending);
  return { kind: 'show', locals: { notice: 'passkey.enrol.confirm_intro' } };
}

/** The sign-in with the passkey just registered: it proves the enrolment, and only then is the passkey stored. */
async function confirmEnrolment(ctx: FactorContext, form: Form, pending: Pending): Promise<FactorOutcome> {
  const { services, account } = ctx;
  if (!account) return { kind: 'fail', status: 409, messageKey: 'passkey.errors.no_account' };
  const closed = ceremonyError(form);
  if (closed) return dialogClosed(closed, false);
  if (await tooMany(ctx)) return { kind: 'show', status: 429, locals: { errors: { passkey: 'passkey.errors.too_many' } } };
  const challenge = await spendChallenge(ctx);
  const now = services.clock.now();
  const candidate = passkeyRecord(account.id, pending.data, now);
  const passkeys = Passkeys.from(services);
  const verified = await verifyPasskeyAuthentication({
    rp: passkeys.rp, challenge, flowId: ctx.flowId, use: 'second-factor', now, accountId: account.id, response: form.passkey_response,
    findCredential: async (id) => (id === pending.data.credentialId ? candidate : undefined),
  });
  if (!verified.ok) return failed(ctx, verified.reason, false, signInAuditEvents(account.id, verified));
  const added = await passkeys.credentials.add(account.id, { ...verified.updated }, now);
  const registration = added.ok
    ? { ok: true as const, record: added.record, userVerified: pending.data.userVerifiedAtRegistration, challenge: verified.challenge }
    : { ok: false as const, reason: added.reason };
  await audit(ctx, registrationAuditEvents(account.id, registration));
  if (!added.ok) return failed(ctx, added.reason, true);
  await audit(ctx, signInAuditEvents(account.id, { ok: true, accountId: account.id, record: added.record, proof: verified.proof, challenge: verified.challenge }));
  ctx.scratch.clear();
  return { kind: 'proved', proof: { ...verified.proof, amr: [...verified.proof.amr] } };
}

export const passkeyFactor: Factor = {
  id: PASSKEY_FACTOR_ID,
  role: 'second',
  positions: ['first', 'second'],
  strength: 2,
  phishingResistant: true,
  view: 'factors/passkey',
  actions: ['signin', 'register'],
  enrollable: true,
  settings: passkeySettings,

  isEnrolled: async (services, account) => (await Passkeys.from(services).credentials.list(account.id)).length > 0,
  describe: async (_services, _account, t) => t('passkey.describe'),

  async enter(ctx, mode) {
    if (mode === 'enrol') ctx.scratch.clear();
    return { kind: 'show' };
  },

  /** The options of the ceremony the page runs now (a fresh challenge when the kept one is spent or old). */
  async present(ctx, mode) {
    const { services } = ctx;
    const passkeys = Passkeys.from(services);
    const pending = ctx.scratch.get<Pending>(PENDING);
    const account = ctx.account;
    const challenge = await liveChallenge(ctx, mode, async () => userHandleFor(account ? await passkeys.credentials.list(account.id) : []));
    const rp = passkeys.rp;
    if (challenge.ceremony === 'registration') {
      if (!account) return {};
      const existing = (await passkeys.credentials.list(account.id)).map((p) => p.data);
      const options = await passkeyRegistrationOptions({ rp, rpName: ctx.t('common.product'), challenge, userName: account.username, existing });
      return { phase: 'register', passkeyOptions: options };
    }
    const allow = pending ? [pending.data] : account && challenge.use === 'second-factor' ? (await passkeys.credentials.list(account.id)).map((p) => p.data) : [];
    const options = await passkeyAuthenticationOptions({ rp, challenge, allow });
    return { phase: pending ? 'confirm' : challenge.use, passkeyOptions: options, ...(pending ? { pendingName: pending.data.name } : {}) };
  },

  async handle(ctx, action, form, mode) {
    const pending = ctx.scratch.get<Pending>(PENDING);
    if (mode === 'enrol' && action === 'register' && !pending) return register(ctx, form);
    if (mode === 'enrol' && action === 'signin' && pending && readPasskeyData(passkeyRecord(ctx.account?.id ?? '', pending.data, 0))) return confirmEnrolment(ctx, form, pending);
    if (mode === 'challenge' && action === 'signin') return signIn(ctx, form);
    // A form of another phase (a page left behind): this phase's page, with fresh options.
    return { kind: 'show', status: 409, locals: { errors: { passkey: 'passkey.errors.expired' } } };
  },
};
