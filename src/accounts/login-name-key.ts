// Lock and throttle records are found by the login name someone typed, but must not keep it: a
// password typed into the username field would otherwise sit in the database in clear. The key
// is an HMAC of the canonical name, with a key derived from SECRETS_KEY (bootstrap.ts), so a copy
// of the database cannot be searched for a guessed name either.
import { createHmac } from 'node:crypto';

/** The form the account lookup matches in (so `ｔarget`, ` Target ` and `target` are one name). */
export function canonicalLogin(login: string): string {
  return login.normalize('NFKC').trim().toLowerCase();
}

export class LoginNameKeys {
  constructor(private readonly key: Buffer) {}

  of(login: string): string {
    return createHmac('sha256', this.key).update(canonicalLogin(login)).digest('base64url');
  }
}
