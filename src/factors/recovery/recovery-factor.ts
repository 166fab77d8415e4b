// Recovery codes: the fallback when the phone or app is gone ("Gebruik herstelcode"). Shown
// once, right after the first second factor is enrolled; the patient confirms they saved them.
// At login they are offered under "use another method".
//
// amr: RFC 8176 has no value for look-up secrets. We report `otp`: the registry defines it as
// "use of a one-time password" and names HOTP/TOTP only as examples, and a recovery code is
// exactly that, a password valid once. A private value such as `rec` would mean nothing to a
// portal (RFC 8176 §6 asks for registered values), and it would not change the level: NIST SP
// 800-63B accepts look-up secrets as a second factor at AAL2, hence strength 2. That a recovery
// code rather than the app was used is in our audit trail and in the mail to the patient.
import type { Factor, FactorContext, FactorOutcome, Form } from '../factor.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { Services } from '../../services.ts';
import type { Translate } from '../../i18n/i18n.ts';
import { PASSWORD_CREDENTIAL } from '../../accounts/passwords.ts';
import {
  generateRecoveryCodes, newRecoveryCodes, recoveryCodesLeft, storeRecoveryCodes, useRecoveryCode,
  RECOVERY_CREDENTIAL, type RecoveryUse,
} from './recovery-codes.ts';
import { sendRecoveryCodeUsedMail } from './recovery-mail.ts';
import { reportCodeGuessing } from '../../accounts/code-guessing-notice.ts';
import { codesLeftText, downloadHref, recoveryFileText } from './recovery-text.ts';
import { brandSlug, type Brand } from '../../brand/brand.ts';

export { generateRecoveryCodes, recoveryCodesLeft } from './recovery-codes.ts';

export const RECOVERY_AMR = ['otp'] as const;

/** The codes being shown at enrolment, sealed (they must not sit in the flow store in clear). */
const PENDING_CODES = 'pendingCodesSealed';

/** Sealed for their flow: codes planted in another patient's flow (codes the planter knows) do not open there. */
function pendingCodesContext(flowId: string): string {
  return `recovery-pending:${flowId}`;
}

const ERROR_STATUS: Record<Exclude<RecoveryUse, { ok: true }>['reason'], number> = {
  malformed: 400,
  wrong: 401,
  used: 401,
  locked: 429,
};

/** Locals for the page that shows codes (enrolment and settings). */
/** The file names the portal (heading and file name): a patient with several portals tells them apart. */
function codeLocals(t: Translate, brand: Brand, username: string, codes: readonly string[]) {
  return {
    codes,
    downloadHref: downloadHref(recoveryFileText(t, brand.name, username, codes)),
    downloadName: t('recovery.show.filename', { portal: brandSlug(brand) }),
  };
}

function pendingCodes(ctx: FactorContext): string[] | undefined {
  const sealed = ctx.scratch.get<string>(PENDING_CODES);
  if (!sealed) return undefined;
  // Not this flow's (or sealed unbound before the upgrade): as if expired, the patient starts again.
  const text = ctx.services.box.tryOpenBound(sealed, pendingCodesContext(ctx.flowId));
  if (text === undefined) return undefined;
  const codes: unknown = JSON.parse(text);
  return Array.isArray(codes) && codes.every((c) => typeof c === 'string') ? codes : undefined;
}

async function confirmSaved(ctx: FactorContext, form: Form): Promise<FactorOutcome> {
  const { services, account } = ctx;
  if (!account) return { kind: 'fail', status: 409, messageKey: 'recovery.errors.no_account' };
  const codes = pendingCodes(ctx);
  if (!codes) return { kind: 'fail', status: 409, messageKey: 'recovery.errors.expired' };
  if (form.saved !== 'on') return { kind: 'show', status: 400, locals: { errors: { saved: 'recovery.errors.confirm_saved' } } };
  await storeRecoveryCodes(services, account, codes);
  ctx.scratch.clear();
  await services.audit.record({ type: 'recovery.enrolled', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip });
  return { kind: 'enrolled' };
}

async function verifyCode(ctx: FactorContext, form: Form): Promise<FactorOutcome> {
  const { services, account } = ctx;
  if (!account) return { kind: 'fail', status: 409, messageKey: 'recovery.errors.no_account' };
  const result = await useRecoveryCode(services, account, form.code);
  if (!result.ok) {
    await services.audit.record({ type: 'login.recovery.failed', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip, detail: { reason: result.reason } });
    if (result.budgetSpent) {
      await reportCodeGuessing(services, account, { factor: 'recovery', method: async (t) => t('settings.method.recovery'), portal: ctx.policy.name, clientId: ctx.policy.clientId, ip: ctx.ip });
    }
    // A spent code gets the wrong code's words: "already used" would tell whoever tries codes
    // from a stolen list which ones were real (the audit trail keeps the difference).
    const shown = result.reason === 'used' ? 'wrong' : result.reason;
    return { kind: 'show', status: ERROR_STATUS[result.reason], locals: { errors: { code: `recovery.errors.${shown}` } } };
  }
  await services.audit.record({ type: 'login.recovery.used', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip, detail: { left: result.left } });
  notifyUsed(services, account, result.left);
  return { kind: 'proved', proof: { factor: 'recovery', amr: RECOVERY_AMR, strength: 2, at: services.clock.now() } };
}

/** The mail goes out beside the login: a slow or failing mail server must not block it. */
function notifyUsed(services: Services, account: AccountRecord, left: number): void {
  sendRecoveryCodeUsedMail(services, account, left).catch((error: unknown) => {
    services.logger.warn({ accountId: account.id, error: error instanceof Error ? error.name : 'unknown' }, 'recovery code notice not sent');
  });
}

export const recoveryFactor: Factor = {
  id: 'recovery',
  role: 'recovery',
  positions: ['fallback'],
  strength: 2,
  view: 'factors/recovery',
  actions: ['verify', 'confirm'],
  // Never enrolled on its own: the codes come with the first second factor.
  enrollable: false,

  isEnrolled: async (services, account) => (await recoveryCodesLeft(services, account)) > 0,
  describe: async (_services, _account, t) => t('recovery.describe'),

  async enter(ctx, mode) {
    if (mode === 'enrol') ctx.scratch.set(PENDING_CODES, ctx.services.box.seal(JSON.stringify(newRecoveryCodes()), pendingCodesContext(ctx.flowId)));
    return { kind: 'show' };
  },

  async present(ctx, mode) {
    if (!ctx.account) return {};
    if (mode === 'challenge') {
      const left = await recoveryCodesLeft(ctx.services, ctx.account);
      return { left, leftText: codesLeftText(ctx.t, left) };
    }
    const codes = pendingCodes(ctx);
    return codes ? codeLocals(ctx.t, ctx.policy.brand, ctx.account.username, codes) : { codes: [], errors: { saved: 'recovery.errors.expired' } };
  },

  async handle(ctx, action, form, mode) {
    if (mode === 'enrol' && action === 'confirm') return confirmSaved(ctx, form);
    if (mode === 'challenge' && action === 'verify') return verifyCode(ctx, form);
    return { kind: 'show', status: 400 };
  },

  settings: {
    async summary(services, account, t) {
      const types = (await services.store.credentials.listByAccount(account.id)).map((c) => c.type);
      // Codes only make sense next to a second factor (or when a set exists, even used up).
      const relevant = types.includes(RECOVERY_CREDENTIAL) || types.some((type) => type !== PASSWORD_CREDENTIAL);
      if (!relevant) return undefined;
      return {
        text: codesLeftText(t, await recoveryCodesLeft(services, account)),
        actions: [{ name: 'regenerate', label: t('recovery.settings.regenerate') }],
      };
    },
    async handle(ctx, action) {
      if (action !== 'regenerate' || !ctx.account) return { notice: ctx.t('recovery.settings.unknown_action') };
      const codes = await generateRecoveryCodes(ctx.services, ctx.account);
      return { view: 'factors/recovery', locals: { mode: 'settings', ...codeLocals(ctx.t, ctx.policy.brand, ctx.account.username, codes) }, replaced: true };
    },
  },
};
