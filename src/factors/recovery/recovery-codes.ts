// Recovery codes (NIST SP 800-63B "look-up secrets"): six codes XXXX-XXXX-XXXX, each usable once.
// Only salted argon2id hashes are stored (ASVS 5.0 6.5.2), in one credential per account:
// `{ type: 'recovery', data: { codes: [{ hash, usedAt }] } }`. Using a code marks it through the
// store's compare-and-swap, so the same code cannot be spent twice, not even by two processes.
import { randomInt } from 'node:crypto';
import type { Services } from '../../services.ts';
import type { AccountRecord, CredentialRecord } from '../../store/port.ts';
import { limitRule } from '../../accounts/limits.ts';
import { hashPassword, verifyPassword } from '../../accounts/password-hash.ts';
import { randomId } from '../../accounts/random.ts';

export const RECOVERY_CREDENTIAL = 'recovery';
export const RECOVERY_CODE_COUNT = 6;
/** No 0/O, 1/I/L: nothing that reads as something else on paper. 31 symbols. */
export const RECOVERY_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const GROUPS = 3;
const GROUP_LENGTH = 4;
/** 12 symbols of 31: about 59 bits per code, far beyond guessing under the limit below. */
const CODE_LENGTH = GROUPS * GROUP_LENGTH;
const CODE_PATTERN = new RegExp(`^[${RECOVERY_ALPHABET}]{${CODE_LENGTH}}$`);
const CAS_ATTEMPTS = 3;

export interface RecoveryCodeEntry {
  /** argon2id of the code without dashes, upper case. */
  hash: string;
  usedAt: number | null;
}

export interface RecoveryCredentialData {
  codes: RecoveryCodeEntry[];
}

export type RecoveryUse =
  | { ok: true; left: number }
  | {
    ok: false;
    reason: 'malformed' | 'wrong' | 'used' | 'locked';
    /** This wrong code used up the account's budget: recovery codes are refused until the window ends. */
    budgetSpent?: true;
  };

/** `ABCDEFGHJKMN` → `ABCD-EFGH-JKMN` */
export function formatRecoveryCode(code: string): string {
  return code.match(new RegExp(`.{1,${GROUP_LENGTH}}`, 'g'))?.join('-') ?? code;
}

/** A fresh set of codes, formatted for display. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i += 1) code += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
    return formatRecoveryCode(code);
  });
}

/** What the patient typed, as stored: lower case, spaces and missing or extra dashes are fine. */
export function normaliseRecoveryInput(input: string | undefined): string | undefined {
  const code = (input ?? '').normalize('NFKC').toUpperCase().replace(/[\s\-–—_.\u200b]/g, '');
  return CODE_PATTERN.test(code) ? code : undefined;
}

export function readRecoveryData(credential: CredentialRecord): RecoveryCredentialData | undefined {
  const { codes } = credential.data;
  if (!Array.isArray(codes)) return undefined;
  const entries = codes.filter((c): c is RecoveryCodeEntry =>
    typeof c === 'object' && c !== null && typeof (c as RecoveryCodeEntry).hash === 'string'
    && ((c as RecoveryCodeEntry).usedAt === null || typeof (c as RecoveryCodeEntry).usedAt === 'number'));
  return entries.length === codes.length ? { codes: entries } : undefined;
}

async function recoveryCredentials(services: Services, accountId: string): Promise<Array<{ credential: CredentialRecord; data: RecoveryCredentialData }>> {
  const credentials = await services.store.credentials.listByAccount(accountId, RECOVERY_CREDENTIAL);
  return credentials.flatMap((credential) => {
    const data = readRecoveryData(credential);
    return data ? [{ credential, data }] : [];
  });
}

/**
 * Stores `codes` (as shown to the patient) as the account's only set: the new set is written
 * before the old one is removed, so there is never a moment without codes.
 */
export async function storeRecoveryCodes(services: Services, account: AccountRecord, codes: readonly string[]): Promise<void> {
  const hashes = await Promise.all(codes.map((code) => hashPassword(normaliseRecoveryInput(code) ?? code)));
  const previous = await services.store.credentials.listByAccount(account.id, RECOVERY_CREDENTIAL);
  const now = services.clock.now();
  const data: RecoveryCredentialData = { codes: hashes.map((hash) => ({ hash, usedAt: null })) };
  await services.store.credentials.put({ id: randomId(), accountId: account.id, type: RECOVERY_CREDENTIAL, data: { ...data }, createdAt: now, lastUsedAt: null });
  for (const old of previous) await services.store.credentials.remove(old.id);
}

/**
 * For the settings page ("Nieuwe herstelcodes aanmaken"): a new set of six codes, voiding the
 * old set. Returns the codes in clear, to be shown once; they are not kept anywhere.
 */
export async function generateRecoveryCodes(services: Services, account: AccountRecord): Promise<string[]> {
  const codes = newRecoveryCodes();
  await storeRecoveryCodes(services, account, codes);
  await services.audit.record({ type: 'recovery.generated', accountId: account.id });
  return codes;
}

/** For the settings page ("U heeft nog 6 herstelcodes over."). */
export async function recoveryCodesLeft(services: Services, account: AccountRecord): Promise<number> {
  const sets = await recoveryCredentials(services, account.id);
  return sets.reduce((sum, { data }) => sum + data.codes.filter((c) => c.usedAt === null).length, 0);
}

export function recoveryFailureKey(accountId: string): string {
  return `recovery-fail:${accountId}`;
}


/** Finds which stored code `code` is. All hashes are checked (in parallel), so timing tells nothing. */
async function findCode(services: Services, accountId: string, code: string) {
  for (const { credential, data } of await recoveryCredentials(services, accountId)) {
    const matches = await Promise.all(data.codes.map((entry) => verifyPassword(entry.hash, code)));
    const index = matches.indexOf(true);
    if (index >= 0) return { credential, data, index };
  }
  return undefined;
}

/** Checks a recovery code and spends it. */
export async function useRecoveryCode(services: Services, account: AccountRecord, input: string | undefined): Promise<RecoveryUse> {
  const key = recoveryFailureKey(account.id);
  const code = normaliseRecoveryInput(input);
  // Not the shape of a recovery code: it cannot match one, so it is no guess. Answered before the
  // budget is read, so it tells nothing about the budget, and junk cannot lock the patient out.
  if (!code) return { ok: false, reason: 'malformed' };
  // Counted before checking, so parallel guesses cannot all pass a check made before any of them
  // was counted; a success resets the count.
  // Wrong or malformed recovery codes per account (policy.recoveryCodes.failures).
  const left = await services.limits.hit(key, limitRule(services.config.policy.recoveryCodes.failures));
  if (left < 0) return { ok: false, reason: 'locked' };
  // The last allowed guess, if wrong, already locks: say so now rather than on the next try.
  const failed = (): RecoveryUse => (left === 0 ? { ok: false, reason: 'locked', budgetSpent: true } : { ok: false, reason: 'wrong' });

  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
    const found = await findCode(services, account.id, code);
    if (!found) return failed();
    const { credential, data, index } = found;
    if (data.codes[index]!.usedAt !== null) {
      // A spent code is a wrong guess to whoever tries it (the audit keeps the difference).
      return left === 0 ? { ok: false, reason: 'locked', budgetSpent: true } : { ok: false, reason: 'used' };
    }
    const now = services.clock.now();
    const next: RecoveryCredentialData = { codes: data.codes.map((entry, i) => (i === index ? { ...entry, usedAt: now } : entry)) };
    if (await services.store.credentials.compareAndSwap(credential.id, credential.data, { ...credential.data, ...next }, now)) {
      await services.limits.reset(key);
      return { ok: true, left: next.codes.filter((c) => c.usedAt === null).length };
    }
    // The set changed under us (this code or another one was just used): look again.
  }
  return { ok: false, reason: 'used' };
}
