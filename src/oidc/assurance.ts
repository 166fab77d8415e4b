// What the ID token's `acr` says, derived only from what was proved in the login.
//
// Levels are ordered; a portal asking for one accepts it or anything higher.
//  - low           password only                                    NIST SP 800-63B-4 AAL1
//  - low-mfa       password + e-mail code: two steps, but NIST does not accept e-mail as an
//                  out-of-band authenticator, so this stays below AAL2 (we do not round up)
//  - substantial   password + SMS / voice / authenticator app / recovery code,   AAL2
//                  or a passkey (alone only when it verified the user: multi-factor on its own)
//  - substantial-phishing-resistant   substantial, with a passkey ceremony bound to our origin
//                  and RP ID proved in this login (NIST SP 800-63B-4's phishing-resistant
//                  authenticator at AAL2). A remembered device never stands in for it.
// The names are ours (urn:poortwachter:...): we do no identity proofing, so claiming eIDAS
// levels or DigiD's values would overstate what a login here proves.
export const ACR = {
  low: 'urn:poortwachter:acr:low',
  lowMfa: 'urn:poortwachter:acr:low-mfa',
  substantial: 'urn:poortwachter:acr:substantial',
  phishingResistant: 'urn:poortwachter:acr:substantial-phishing-resistant',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];

export const ACR_VALUES: readonly Acr[] = [ACR.low, ACR.lowMfa, ACR.substantial, ACR.phishingResistant];

export function acrRank(acr: string | undefined): number {
  return acr ? ACR_VALUES.indexOf(acr as Acr) : -1;
}

export function isKnownAcr(value: string): value is Acr {
  return ACR_VALUES.includes(value as Acr);
}

/** What one proved factor contributes. */
export interface Proof {
  factor: string;
  amr: readonly string[];
  /** 1: a single factor on its own (password, e-mail code); 2: counts towards AAL2 with a password. */
  strength: 1 | 2;
  /** A factor that is multi-factor on its own (a user-verifying passkey). */
  multiFactor?: boolean;
  /**
   * Bound to our origin and RP ID by the ceremony itself (a passkey): what the phishing-resistant
   * level needs. Never set on a replayed proof (a remembered device is a cookie).
   */
  phishingResistant?: boolean;
  /** When it was proved (our clock, epoch ms). */
  at: number;
  /** True when a remembered device stood in for the factor instead of a code typed in this login. */
  replayed?: boolean;
  /**
   * The stored credential (record id) that proved it, for factors an account can hold several of
   * or replace (passkeys, the app): lets a check ask when that very credential was set up.
   */
  credential?: string;
}

export function deriveAssurance(proofs: readonly Proof[]): { acr: Acr; amr: string[] } {
  const amr = [...new Set(proofs.flatMap((p) => p.amr))];
  const distinct = new Set(proofs.map((p) => p.factor)).size;
  if (distinct >= 2 || proofs.some((p) => p.multiFactor)) amr.push('mfa');
  const strongSecond = proofs.some((p) => p.strength === 2) && distinct >= 2;
  const substantial = strongSecond || proofs.some((p) => p.multiFactor);
  const phishingResistant = substantial && proofs.some((p) => p.phishingResistant === true && !p.replayed);
  const acr = phishingResistant ? ACR.phishingResistant : substantial ? ACR.substantial : distinct >= 2 ? ACR.lowMfa : ACR.low;
  return { acr, amr: [...new Set(amr)] };
}

/**
 * The level a login must reach. `acr_values` lists acceptable levels, and a higher level
 * satisfies a lower one, so the weakest requested value is the bar; a portal's own minimum
 * (client metadata) raises it.
 */
export function requiredAcr(requested: readonly string[], clientMinimum?: string): Acr | undefined {
  const known = requested.filter(isKnownAcr);
  const fromRequest = known.length ? known.reduce((a, b) => (acrRank(a) <= acrRank(b) ? a : b)) : undefined;
  const floor = clientMinimum && isKnownAcr(clientMinimum) ? clientMinimum : undefined;
  if (!fromRequest) return floor;
  if (!floor) return fromRequest;
  return acrRank(floor) > acrRank(fromRequest) ? floor : fromRequest;
}
