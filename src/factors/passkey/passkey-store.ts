// The passkeys of accounts in the credential store: one record per passkey, found by credential
// id in one read (the record id is derived from it), a counter that only moves forward through
// compare-and-swap, and renaming and removal limited to the account's own passkeys.
//
// The WebAuthn user handle is random per account (32 bytes), kept in each of its passkeys: it is
// not personal data and not the account id (which is the `sub` portals see), so what an
// authenticator or a synced passkey store holds links to nothing outside Poortwachter. Every
// passkey of an account carries the same handle, so an authenticator keeps one passkey per
// account; when the last passkey goes, the next one gets a fresh handle.
import { randomBytes } from 'node:crypto';
import type { CredentialRecord, CredentialStore } from '../../store/port.ts';
import { passkeyRecord, passkeyRecordId, readPasskeyData, PASSKEY_CREDENTIAL, type PasskeyCredentialData } from './passkey-credential.ts';
import { counterRegressed, type CounterRegression, type VerifiedPasskeyUse } from './verify-authentication.ts';

const USER_HANDLE_BYTES = 32;
const CAS_ATTEMPTS = 3;

/** The handle the account's passkeys share, or a new random one for its first passkey. */
export function userHandleFor(existing: readonly StoredPasskey[]): string {
  return existing[0]?.data.userHandle ?? randomBytes(USER_HANDLE_BYTES).toString('base64url');
}

export interface StoredPasskey {
  record: CredentialRecord;
  data: PasskeyCredentialData;
}

/** One line of the account's passkey list. */
export interface PasskeySummary {
  /** The record id: what rename and remove take. */
  id: string;
  name: string;
  /** A synced passkey (iCloud Keychain, Google Password Manager, ...) rather than one bound to a device. */
  synced: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

export type RecordUseResult =
  | { ok: true; record: CredentialRecord }
  | { ok: false; reason: 'unknown-credential' }
  | { ok: false; reason: 'counter-regression'; clone: CounterRegression };

export class PasskeyCredentials {
  constructor(private readonly credentials: CredentialStore) {}

  /** The account's well-formed passkeys, oldest first. */
  async list(accountId: string): Promise<StoredPasskey[]> {
    const records = await this.credentials.listByAccount(accountId, PASSKEY_CREDENTIAL);
    return records.flatMap((record) => {
      const data = readPasskeyData(record);
      return data ? [{ record, data }] : [];
    });
  }

  async summaries(accountId: string): Promise<PasskeySummary[]> {
    return (await this.list(accountId)).map(({ record, data }) => ({
      id: record.id,
      name: data.name,
      synced: data.backupEligible,
      createdAt: record.createdAt,
      lastUsedAt: record.lastUsedAt,
    }));
  }

  /** The passkey with this credential id, of whichever account. */
  find(credentialId: string): Promise<CredentialRecord | undefined> {
    return this.credentials.findById(passkeyRecordId(credentialId));
  }

  /**
   * Stores a verified registration. A credential id that exists already is refused (WebAuthn §7.1
   * step 26): storing it would overwrite that passkey, perhaps another account's.
   */
  async add(accountId: string, data: PasskeyCredentialData, now: number): Promise<{ ok: true; record: CredentialRecord } | { ok: false; reason: 'already-registered' }> {
    if (await this.find(data.credentialId)) return { ok: false, reason: 'already-registered' };
    const record = passkeyRecord(accountId, data, now);
    await this.credentials.put(record);
    return { ok: true, record };
  }

  /**
   * Saves the counter and backup state of a verified sign-in and marks it used. When another
   * sign-in with the same passkey was saved in between, the counter rule is applied again to what
   * that one stored: two uses reporting the same count cannot both pass.
   */
  async recordUse(use: VerifiedPasskeyUse, now: number): Promise<RecordUseResult> {
    let expected = use.record.data;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      const next = { ...use.updated };
      if (await this.credentials.compareAndSwap(use.record.id, expected, { ...next }, now)) {
        return { ok: true, record: { ...use.record, data: { ...next }, lastUsedAt: now } };
      }
      const current = await this.credentials.findById(use.record.id);
      const data = current && readPasskeyData(current);
      if (!current || !data || current.accountId !== use.accountId) return { ok: false, reason: 'unknown-credential' };
      if (counterRegressed(data.signCount, use.updated.signCount)) {
        return { ok: false, reason: 'counter-regression', clone: { recordId: current.id, accountId: current.accountId, storedCount: data.signCount, receivedCount: use.updated.signCount, raced: true } };
      }
      // Keep what changed meanwhile (a new name) and apply this use on top.
      use = { ...use, updated: { ...data, signCount: use.updated.signCount, backupEligible: use.updated.backupEligible, backedUp: use.updated.backedUp } };
      expected = current.data;
    }
    return { ok: false, reason: 'unknown-credential' };
  }

  /** Renames one of the account's passkeys (`name` cleaned by normalisePasskeyName); false when it has no such passkey. */
  async rename(accountId: string, recordId: string, name: string): Promise<boolean> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      const found = await this.ownPasskey(accountId, recordId);
      if (!found) return false;
      const data = { ...found.data, name };
      const { lastUsedAt } = found.record;
      // Compare-and-swap also sets "last used", so it can keep only a time there is; a passkey
      // never used yet is rewritten whole (a first sign-in racing the rename loses at most that
      // sign-in's counter step, which the next sign-in moves past again).
      if (lastUsedAt === null) {
        await this.credentials.put({ ...found.record, data: { ...data } });
        return true;
      }
      if (await this.credentials.compareAndSwap(found.record.id, found.record.data, { ...data }, lastUsedAt)) return true;
    }
    return false;
  }

  /** Removes one of the account's passkeys; false when it has no such passkey. */
  async remove(accountId: string, recordId: string): Promise<boolean> {
    const found = await this.ownPasskey(accountId, recordId);
    if (!found) return false;
    await this.credentials.remove(found.record.id);
    return true;
  }

  private async ownPasskey(accountId: string, recordId: string): Promise<StoredPasskey | undefined> {
    const record = await this.credentials.findById(recordId);
    const data = record && record.accountId === accountId ? readPasskeyData(record) : undefined;
    return record && data ? { record, data } : undefined;
  }
}
