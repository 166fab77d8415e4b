// Authenticator app (TOTP, RFC 6238), Minddistrict's "Code van authenticatie-applicatie".
// Enrolment: a new secret lives sealed in the flow scratch (bound to the flow) while the QR code is
// shown, and only becomes a credential once a first code from the app verifies: it is then sealed
// anew, bound to its account and credential (totp-binding.ts). Login: a code, accepted once.
import type { Factor, FactorContext, FactorOutcome, Form } from '../factor.ts';
import type { Proof } from '../../oidc/assurance.ts';
import { randomId } from '../../accounts/random.ts';
import { reportCodeGuessing } from '../../accounts/code-guessing-notice.ts';
import { groupedKey, newTotpSecret, otpauthUri, qrDataUrl } from './totp-secret.ts';
import {
  matchingStep, normaliseTotpInput, totpCredential, verifyTotpLogin,
  TOTP_CREDENTIAL, totpEnrolFailures, type TotpCheck, type TotpCredentialData,
} from './totp-code.ts';
import { pendingTotpContext, totpContext } from './totp-binding.ts';

const PENDING_SECRET = 'pendingSecretSealed';

const ERROR_STATUS: Record<Exclude<TotpCheck, { ok: true }>['reason'], number> = {
  malformed: 400,
  wrong: 401,
  replayed: 401,
  locked: 429,
  // The stored secret does not open as this credential's: no code can match; the care provider
  // removes the app so it can be set up again.
  unreadable: 409,
};

/** `credential`: the app's credential record, so a check can ask when this very app was set up. */
function proof(ctx: FactorContext, credential: string): Proof {
  return { factor: 'totp', amr: ['otp'], strength: 2, at: ctx.services.clock.now(), credential };
}

function showError(reason: keyof typeof ERROR_STATUS, enrolling = false): FactorOutcome {
  // A replayed code gets the wrong code's words: "already used" would tell a guesser that the code
  // was right (the audit trail keeps the difference).
  const shown = reason === 'replayed' ? 'wrong' : reason;
  const key = enrolling && shown === 'wrong' ? 'totp.errors.wrong_enrol' : `totp.errors.${shown}`;
  return { kind: 'show', status: ERROR_STATUS[reason], locals: { errors: { code: key } } };
}

function startEnrolment(ctx: FactorContext): void {
  ctx.scratch.set(PENDING_SECRET, ctx.services.box.seal(newTotpSecret(), pendingTotpContext(ctx.flowId)));
}

/**
 * The secret being enrolled, or undefined when there is none, or it does not open as this flow's
 * (copied from another flow; or sealed unbound by the version before binding, for a flow that was
 * in progress during the upgrade: set-up then starts again with a new QR code).
 */
function pendingSecret(ctx: FactorContext): string | undefined {
  const sealed = ctx.scratch.get<string>(PENDING_SECRET);
  return sealed ? ctx.services.box.tryOpenBound(sealed, pendingTotpContext(ctx.flowId)) : undefined;
}

async function verifyEnrolment(ctx: FactorContext, form: Form): Promise<FactorOutcome> {
  const { services, account } = ctx;
  if (!account) return { kind: 'fail', status: 409, messageKey: 'totp.errors.no_account' };
  const secret = pendingSecret(ctx);
  if (secret === undefined) {
    startEnrolment(ctx);
    return { kind: 'show', status: 400, locals: { errors: { code: 'totp.errors.enrol_expired' } } };
  }
  const key = `totp-enrol-fail:${account.id}`;
  if (await services.limits.exhausted(key, totpEnrolFailures(services))) return showError('locked', true);
  const code = normaliseTotpInput(form.code);
  if (!code) {
    await services.limits.hit(key, totpEnrolFailures(services));
    return showError('malformed', true);
  }
  const step = await matchingStep(secret, code, services.clock.now());
  if (step === undefined) {
    await services.limits.hit(key, totpEnrolFailures(services));
    await services.audit.record({ type: 'totp.enrol_failed', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip });
    return showError('wrong', true);
  }
  const now = services.clock.now();
  const previous = await services.store.credentials.listByAccount(account.id, TOTP_CREDENTIAL);
  // The enrolment code's step counts as used, so it cannot log in a second time.
  const credential = randomId();
  const data: TotpCredentialData = { secretSealed: services.box.seal(secret, totpContext(account.id, credential)), lastUsedStep: step };
  await services.store.credentials.put({ id: credential, accountId: account.id, type: TOTP_CREDENTIAL, data: { ...data }, createdAt: now, lastUsedAt: now });
  // Replacing an app: the old secret stops working only once the new one is proven.
  for (const old of previous) await services.store.credentials.remove(old.id);
  await services.limits.reset(key);
  ctx.scratch.clear();
  await services.audit.record({ type: 'totp.enrolled', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip, detail: { replaced: previous.length > 0 } });
  return { kind: 'proved', proof: proof(ctx, credential) };
}

async function verifyLogin(ctx: FactorContext, form: Form): Promise<FactorOutcome> {
  const { services, account } = ctx;
  if (!account) return { kind: 'fail', status: 409, messageKey: 'totp.errors.no_account' };
  const check = await verifyTotpLogin(services, account, form.code);
  if (!check.ok) {
    await services.audit.record({ type: 'login.totp.failed', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip, detail: { reason: check.reason } });
    if (check.budgetSpent) {
      await reportCodeGuessing(services, account, { factor: 'totp', method: async (t) => t('settings.method.totp'), portal: ctx.policy.name, clientId: ctx.policy.clientId, ip: ctx.ip });
    }
    return showError(check.reason);
  }
  await services.audit.record({ type: 'login.totp.ok', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip });
  return { kind: 'proved', proof: proof(ctx, check.credential) };
}

export const totpFactor: Factor = {
  id: 'totp',
  role: 'second',
  positions: ['second'],
  strength: 2,
  view: 'factors/totp',
  actions: ['verify'],
  enrollable: true,

  isEnrolled: async (services, account) => (await totpCredential(services, account.id)) !== undefined,
  describe: async (_services, _account, t) => t('totp.describe'),

  async enter(ctx, mode) {
    if (mode === 'enrol') startEnrolment(ctx);
    return { kind: 'show' };
  },

  async present(ctx, mode) {
    if (mode !== 'enrol') return {};
    // No pending secret that opens (see pendingSecret): the page says set-up starts again, and the
    // next code posted gets a new QR code.
    const secret = pendingSecret(ctx);
    if (secret === undefined || !ctx.account) return { errors: { code: 'totp.errors.enrol_expired' } };
    const issuer = ctx.policy.brand.totpIssuer;
    const uri = otpauthUri(ctx.account.username, secret, issuer);
    return { qrDataUrl: await qrDataUrl(uri), groupedKey: groupedKey(secret), otpauthUri: uri, issuer, username: ctx.account.username };
  },

  async handle(ctx, action, form, mode) {
    if (action !== 'verify') return { kind: 'show', status: 400 };
    return mode === 'enrol' ? verifyEnrolment(ctx, form) : verifyLogin(ctx, form);
  },
};
