// "Onthoud mij": after a second factor, a device may skip the second factor for a while. The
// browser keeps `id.secret` in a cookie of its own per account; the store keeps the secret's hash
// and what was proved, so a remembered login never reports more than the original one did.
// The password is always still asked. Revoked by: forgetting all devices, a password change, a
// 2FA reset, or expiry.
import { createHash } from 'node:crypto';
import type { AccountRecord, DeviceRecord, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { randomId, safeEqual, sha256 } from './random.ts';
import type { Policy, RememberChoice } from '../policy/defaults.ts';

/** What each choice means; the names say it, so a deployment picks among them but does not redefine them. */
const DURATION_MS: Readonly<Record<RememberChoice, number>> = {
  none: 0,
  '12h': 12 * 3600_000,
  '3d': 3 * 24 * 3600_000,
  '1w': 7 * 24 * 3600_000,
};

/** What the remembered second factor proved, replayed on later logins from this device. */
export interface RememberedProof {
  factor: string;
  amr: string[];
  strength: 1 | 2;
}

export function deviceCookieName(accountId: string): string {
  return `pw_device_${createHash('sha256').update(accountId).digest('base64url').slice(0, 12)}`;
}

export class RememberedDevices {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** The choices offered, the default one and the deployment's cap (policy.rememberDevice). */
    private readonly policy: Policy['rememberDevice'],
  ) {}

  /** The choices a patient is offered, in order. */
  choices(): readonly RememberChoice[] {
    return this.policy.choices;
  }

  /** Whether `value` is a choice the patient is offered. */
  isChoice(value: unknown): value is RememberChoice {
    return typeof value === 'string' && (this.policy.choices as readonly string[]).includes(value);
  }

  /** The account's choice, or the default when it never chose (or chose one no longer offered). */
  choiceOf(account: AccountRecord): RememberChoice {
    const choice = account.settings.rememberDevice;
    return this.isChoice(choice) ? choice : this.policy.defaultChoice;
  }

  /** How long this account's devices may be remembered; 0 = not at all. */
  durationFor(account: AccountRecord): number {
    return Math.min(DURATION_MS[this.choiceOf(account)], this.policy.maxSeconds * 1000);
  }

  /** Remembers the device; returns the cookie value and its lifetime. */
  async remember(account: AccountRecord, proof: RememberedProof, acr: string, label: string): Promise<{ value: string; maxAgeMs: number } | undefined> {
    const maxAgeMs = this.durationFor(account);
    if (maxAgeMs <= 0) return undefined;
    const id = randomId(12);
    const secret = randomId(32);
    const now = this.clock.now();
    // The factor, its strength and amr are kept, so the proof can be rebuilt exactly.
    await this.store.devices.put({ id, accountId: account.id, secretHash: sha256(secret), factor: proof.factor, strength: proof.strength, amr: [...proof.amr], acr, label, createdAt: now, expiresAt: now + maxAgeMs, lastUsedAt: null });
    return { value: `${id}.${secret}`, maxAgeMs };
  }

  /** The proof a valid cookie stands for, or undefined (unknown, expired, other account, tampered). */
  async recognise(account: AccountRecord, cookieValue: string | undefined): Promise<{ device: DeviceRecord; proof: RememberedProof } | undefined> {
    if (!cookieValue) return undefined;
    const [id, secret] = cookieValue.split('.');
    if (!id || !secret) return undefined;
    const device = await this.store.devices.find(id, this.clock.now());
    if (!device || device.accountId !== account.id || !safeEqual(device.secretHash, sha256(secret))) return undefined;
    if (!device.factor) return undefined;
    await this.store.devices.put({ ...device, lastUsedAt: this.clock.now() });
    return { device, proof: { factor: device.factor, strength: device.strength, amr: [...device.amr] } };
  }

  async list(accountId: string): Promise<DeviceRecord[]> {
    return this.store.devices.listByAccount(accountId, this.clock.now());
  }

  /** Forgets one device of the account; false when it is not the account's (or gone already). */
  async forget(accountId: string, deviceId: string): Promise<boolean> {
    const device = await this.store.devices.find(deviceId, this.clock.now());
    if (!device || device.accountId !== accountId) return false;
    await this.store.devices.remove(deviceId);
    return true;
  }

  forgetAll(accountId: string): Promise<void> {
    return this.store.devices.removeByAccount(accountId);
  }
}
