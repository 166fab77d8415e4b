// The claims an ID token or userinfo response may carry about an account, per scope.
import type { Account } from 'oidc-provider';
import type { Accounts } from '../accounts/accounts.ts';

export async function findAccountClaims(accounts: Accounts, sub: string): Promise<Account | undefined> {
  const account = await accounts.findById(sub);
  if (!account || account.status !== 'active') return undefined;
  return {
    accountId: account.id,
    async claims() {
      const name = [account.givenName, account.familyName].filter(Boolean).join(' ') || undefined;
      const phone = accounts.phoneOf(account);
      return {
        sub: account.id,
        preferred_username: account.username,
        name,
        given_name: account.givenName ?? undefined,
        family_name: account.familyName ?? undefined,
        locale: account.locale,
        email: account.email,
        email_verified: account.emailVerified,
        ...(phone ? { phone_number: phone, phone_number_verified: account.phoneVerified } : {}),
      };
    },
  };
}

/** The claims each scope grants: provider.ts builds oidc-provider's `claims` from this, the consent page words it. */
const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'given_name', 'family_name', 'locale', 'preferred_username'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
};

export function claimsOfScope(scope: string): readonly string[] {
  return SCOPE_CLAIMS[scope] ?? [];
}
