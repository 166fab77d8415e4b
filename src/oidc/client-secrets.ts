// Client secrets at rest. oidc-provider cannot work with a hash: `Client#compareClientSecret`
// compares the plain secret (client_secret_basic/_post), its client schema requires `client_secret`
// for those methods, and it derives the HS256 keys of client_secret_jwt and symmetric ID token
// signing from it. So the secret is sealed (AES-256-GCM with SECRETS_KEY) in the client store and
// opened only when the client adapter hands the metadata to oidc-provider (cached for seconds,
// in memory). A copy of the database alone does not reveal it.
import { SecretBox } from '../accounts/secret-box.ts';

const CONTEXT = 'client-secret';

/** Metadata as stored: `client_secret` sealed. Sealed metadata passes through unchanged. */
export function sealClientSecret(box: SecretBox, metadata: Record<string, unknown>): Record<string, unknown> {
  const secret = metadata.client_secret;
  if (typeof secret !== 'string' || SecretBox.isSealed(secret)) return metadata;
  return { ...metadata, client_secret: box.seal(secret, `${CONTEXT}:${String(metadata.client_id)}`) };
}

/** Metadata as oidc-provider needs it: `client_secret` in the clear. */
export function openClientSecret(box: SecretBox, metadata: Record<string, unknown>): Record<string, unknown> {
  const secret = metadata.client_secret;
  if (typeof secret !== 'string' || !SecretBox.isSealed(secret)) return metadata;
  return { ...metadata, client_secret: box.open(secret, `${CONTEXT}:${String(metadata.client_id)}`) };
}

/** Whether the stored metadata still holds a secret in the clear (written before sealing existed). */
export function clientSecretInTheClear(metadata: Record<string, unknown>): boolean {
  return typeof metadata.client_secret === 'string' && !SecretBox.isSealed(metadata.client_secret);
}
