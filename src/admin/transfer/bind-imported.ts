// An export from a version before binding carries phone numbers and TOTP secrets sealed unbound
// (accounts/bound-secrets.ts). The import binds them to their record as it reads them, so what it
// writes opens at once and a merge into a bound installation never re-opens the start-up re-seal
// (which, once done, re-seals nothing: an unbound value would stay unreadable).
import type { SecretBox } from '../../accounts/secret-box.ts';
import { phoneContext } from '../../accounts/accounts.ts';
import { boundForm } from '../../accounts/rebind.ts';
import { TOTP_CREDENTIAL, totpContext } from '../../factors/totp/totp-binding.ts';
import type { AccountRecord, CredentialRecord, TransferRecords, TransferType } from '../../store/port.ts';

function bindAccount(box: SecretBox, account: AccountRecord): AccountRecord {
  if (!account.phoneEncrypted) return account;
  const phoneEncrypted = boundForm(box, account.phoneEncrypted, phoneContext(account.id));
  return phoneEncrypted === account.phoneEncrypted ? account : { ...account, phoneEncrypted };
}

function bindCredential(box: SecretBox, credential: CredentialRecord): CredentialRecord {
  const sealed = credential.data.secretSealed;
  if (credential.type !== TOTP_CREDENTIAL || typeof sealed !== 'string') return credential;
  const secretSealed = boundForm(box, sealed, totpContext(credential.accountId, credential.id));
  return secretSealed === sealed ? credential : { ...credential, data: { ...credential.data, secretSealed } };
}

/** The record as the import writes it: its phone number or TOTP secret bound to it. */
export function bindImported<K extends TransferType>(box: SecretBox, type: K, record: TransferRecords[K]): TransferRecords[K] {
  if (type === 'account') return bindAccount(box, record as AccountRecord) as TransferRecords[K];
  if (type === 'credential') return bindCredential(box, record as CredentialRecord) as TransferRecords[K];
  return record;
}
