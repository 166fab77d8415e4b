// Client secrets at rest. oidc-provider cannot work with a hash: `Client#compareClientSecret`
// compares the plain secret (client_secret_basic/_post), its client schema requires `client_secret`
// for those methods, and it derives the HS256 keys of client_secret_jwt and symmetric ID token
// signing from it. So the secret is sealed (AES-256-GCM with SECRETS_KEY) in the client store and
// opened only when the client adapter hands the metadata to oidc-provider (cached for seconds,
// in memory). A copy of the database alone does not reveal it.
import { SecretBox } from '../accounts/secret-box.ts';

const CONTEXT = 'client-secret';

/**
 * The secret a rotation replaced, still accepted until `previous_client_secret_expires_at`
 * (epoch seconds; see oidc/secret-grace.ts). Sealed like the secret itself, under its own context.
 */
export const PREVIOUS_SECRET = 'previous_client_secret';
export const PREVIOUS_SECRET_EXPIRES_AT = 'previous_client_secret_expires_at';
const SEALED_MEMBERS = [['client_secret', CONTEXT], [PREVIOUS_SECRET, `${CONTEXT}-previous`]] as const;

/** Metadata as stored: `client_secret` (and a previous one) sealed. Sealed metadata passes through unchanged. */
export function sealClientSecret(box: SecretBox, metadata: Record<string, unknown>): Record<string, unknown> {
  let sealed = metadata;
  for (const [member, context] of SEALED_MEMBERS) {
    const secret = sealed[member];
    if (typeof secret !== 'string' || SecretBox.isSealed(secret)) continue;
    sealed = { ...sealed, [member]: box.seal(secret, `${context}:${String(metadata.client_id)}`) };
  }
  return sealed;
}

/** Metadata as oidc-provider needs it: `client_secret` (and a previous one) in the clear. */
export function openClientSecret(box: SecretBox, metadata: Record<string, unknown>): Record<string, unknown> {
  let opened = metadata;
  for (const [member, context] of SEALED_MEMBERS) {
    const secret = opened[member];
    if (typeof secret !== 'string' || !SecretBox.isSealed(secret)) continue;
    opened = { ...opened, [member]: box.open(secret, `${context}:${String(metadata.client_id)}`) };
  }
  return opened;
}

/** Whether the stored metadata still holds a secret in the clear (written before sealing existed). */
export function clientSecretInTheClear(metadata: Record<string, unknown>): boolean {
  return typeof metadata.client_secret === 'string' && !SecretBox.isSealed(metadata.client_secret);
}
