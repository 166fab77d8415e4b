// The one list of factors. Adding a factor: a folder under factors/, a view, a test file and a
// line here. Order is the order of "use another method".
import type { Factor, FactorPosition } from './factor.ts';
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import { passwordFactor } from './password/password-factor.ts';
import { smsFactor } from './sms/sms-factor.ts';
import { voiceFactor } from './voice/voice-factor.ts';
import { emailFactor } from './email/email-factor.ts';
import { totpFactor } from './totp/totp-factor.ts';
import { recoveryFactor } from './recovery/recovery-factor.ts';
import { passkeyFactor } from './passkey/passkey-factor.ts';

const FACTORS: readonly Factor[] = [
  passwordFactor,
  smsFactor,
  voiceFactor,
  emailFactor,
  totpFactor,
  recoveryFactor,
  passkeyFactor,
];

export function allFactors(): readonly Factor[] {
  return FACTORS;
}

export function findFactor(id: string): Factor | undefined {
  return FACTORS.find((f) => f.id === id);
}

/** The factors that can fill `position`, in registry order (the first of `first` is the page the login starts on). */
export function factorsFor(position: FactorPosition): Factor[] {
  return FACTORS.filter((f) => f.positions.includes(position));
}

/** Whether the account has a second factor or recovery codes enrolled (what only a recovery may set a password past). */
export async function hasSecondFactors(services: Services, account: AccountRecord): Promise<boolean> {
  for (const factor of FACTORS) {
    if ((factor.role === 'second' || factor.role === 'recovery') && await factor.isEnrolled(services, account)) return true;
  }
  return false;
}
