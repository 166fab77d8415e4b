import { describe, expect, it } from 'vitest';
import { ACR, deriveAssurance, requiredAcr } from '../../src/oidc/assurance.ts';

const pwd = { factor: 'password', amr: ['pwd'], strength: 1 as const, at: 0 };
const sms = { factor: 'sms', amr: ['sms'], strength: 2 as const, at: 0 };
const email = { factor: 'email', amr: ['email'], strength: 1 as const, at: 0 };

describe('acr/amr', () => {
  it('password only is low', () => {
    expect(deriveAssurance([pwd])).toEqual({ acr: ACR.low, amr: ['pwd'] });
  });
  it('password + SMS is substantial, with mfa', () => {
    expect(deriveAssurance([pwd, sms])).toEqual({ acr: ACR.substantial, amr: ['pwd', 'sms', 'mfa'] });
  });
  it('password + e-mail code stays below AAL2', () => {
    expect(deriveAssurance([pwd, email]).acr).toBe(ACR.lowMfa);
  });
  it('takes the weakest requested acr, raised by the portal minimum', () => {
    expect(requiredAcr([ACR.substantial, ACR.lowMfa])).toBe(ACR.lowMfa);
    expect(requiredAcr([ACR.low], ACR.substantial)).toBe(ACR.substantial);
    expect(requiredAcr(['unknown'])).toBeUndefined();
  });
});
