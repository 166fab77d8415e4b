// What we keep of a passkey: one CredentialRecord per passkey, `type: 'passkey'`, with this `data`.
// Nothing here is secret (the private key never leaves the authenticator), but everything is
// read back defensively: a record that does not have this shape is treated as no passkey at all.
import { sha256 } from '../../accounts/random.ts';
import type { CredentialRecord } from '../../store/port.ts';

export const PASSKEY_CREDENTIAL = 'passkey';

/** Transports the browser may report (WebAuthn L3 AuthenticatorTransport); others are dropped. */
export const PASSKEY_TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'] as const;
export type PasskeyTransport = (typeof PASSKEY_TRANSPORTS)[number];

export interface PasskeyCredentialData {
  /** base64url credential id, as the browser reports it (`rawId`). */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  /** The authenticator's signature counter at its last use; 0 for passkeys that do not count. */
  signCount: number;
  /** Hints for the browser (allowCredentials / excludeCredentials). */
  transports: PasskeyTransport[];
  /** BE flag: the key may be copied to other devices (a synced passkey). Fixed for its lifetime. */
  backupEligible: boolean;
  /** BS flag at its last use: the key is backed up / synced now. */
  backedUp: boolean;
  /** Authenticator model (all zeros when the authenticator does not say). */
  aaguid: string;
  /** The account's WebAuthn user handle: random, not personal data (see passkey-store.ts). */
  userHandle: string;
  /** The patient's name for it, e.g. "iPhone van Pat". */
  name: string;
  /** Whether the registration verified the user (PIN, fingerprint, face). */
  userVerifiedAtRegistration: boolean;
}

/**
 * The record id for a credential id: a hash, so a passwordless sign-in finds the passkey with one
 * `findById`, whatever the length of the id the authenticator chose (up to 1023 bytes).
 */
export function passkeyRecordId(credentialId: string): string {
  return `${PASSKEY_CREDENTIAL}:${sha256(credentialId)}`;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_COUNTER = 0xffff_ffff;

export function isPasskeyTransport(value: unknown): value is PasskeyTransport {
  return typeof value === 'string' && (PASSKEY_TRANSPORTS as readonly string[]).includes(value);
}

/** The passkey data of `record`, or undefined when the record is not a well-formed passkey. */
export function readPasskeyData(record: CredentialRecord): PasskeyCredentialData | undefined {
  if (record.type !== PASSKEY_CREDENTIAL) return undefined;
  const d = record.data;
  const strings = [d.credentialId, d.publicKey, d.userHandle];
  if (!strings.every((s) => typeof s === 'string' && BASE64URL.test(s))) return undefined;
  if (typeof d.signCount !== 'number' || !Number.isInteger(d.signCount) || d.signCount < 0 || d.signCount > MAX_COUNTER) return undefined;
  if (typeof d.backupEligible !== 'boolean' || typeof d.backedUp !== 'boolean' || typeof d.userVerifiedAtRegistration !== 'boolean') return undefined;
  if (typeof d.aaguid !== 'string' || !UUID.test(d.aaguid) || typeof d.name !== 'string') return undefined;
  if (record.id !== passkeyRecordId(d.credentialId as string)) return undefined;
  return {
    credentialId: d.credentialId as string,
    publicKey: d.publicKey as string,
    signCount: d.signCount,
    transports: Array.isArray(d.transports) ? d.transports.filter(isPasskeyTransport) : [],
    backupEligible: d.backupEligible,
    backedUp: d.backedUp,
    aaguid: d.aaguid,
    userHandle: d.userHandle as string,
    name: d.name,
    userVerifiedAtRegistration: d.userVerifiedAtRegistration,
  };
}

/** A new credential record for `data`; its id follows from the credential id. */
export function passkeyRecord(accountId: string, data: PasskeyCredentialData, now: number): CredentialRecord {
  return { id: passkeyRecordId(data.credentialId), accountId, type: PASSKEY_CREDENTIAL, data: { ...data }, createdAt: now, lastUsedAt: null };
}
