// Input hygiene for what the browser posts: passkey.js puts the ceremony's result (the JSON of
// @simplewebauthn/browser) in a form field. Before any of it reaches the WebAuthn library it is
// checked for size, JSON syntax and shape, with base64url everywhere a byte string is expected,
// so that anything a person or a script can post ends in a typed failure, never an exception.
import { z } from 'zod';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/** The form field passkey.js fills with the ceremony's result. */
export const PASSKEY_RESPONSE_FIELD = 'passkey_response';
/** The form field passkey.js fills when the browser's dialog failed (see `ceremonyError`). */
export const PASSKEY_ERROR_FIELD = 'passkey_error';

/**
 * Bytes of JSON. A registration with `attestation: 'none'` is well under 2 KiB; a post-quantum key
 * (ML-DSA-44: 1312-byte key, 2420-byte signature) still fits with room. Our form parser allows
 * 16 KiB for the whole form.
 */
export const PASSKEY_RESPONSE_MAX_BYTES = 8 * 1024;

const base64url = z.string().min(1).max(PASSKEY_RESPONSE_MAX_BYTES).regex(/^[A-Za-z0-9_-]+={0,2}$/);
// A credential id is at most 1023 bytes (WebAuthn L3 §5.8.3): 1364 characters of base64url.
const credentialId = base64url.max(1364);
const common = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};

const registrationSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    authenticatorData: base64url.optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url.optional(),
  }),
});

const authenticationSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    // The user handle is at most 64 bytes: 86 characters.
    userHandle: base64url.max(88).optional(),
  }),
});

const clientDataSchema = z.object({
  type: z.string(),
  challenge: z.string().max(1024),
  origin: z.string().max(1024),
  crossOrigin: z.boolean().optional(),
  topOrigin: z.string().max(1024).optional(),
});

export type ClientData = z.infer<typeof clientDataSchema>;

export type ParseProblem = 'malformed' | 'too-large';
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: ParseProblem };

function parseJson(raw: string | undefined): Parsed<unknown> {
  if (raw === undefined || raw.length === 0) return { ok: false, reason: 'malformed' };
  if (Buffer.byteLength(raw, 'utf8') > PASSKEY_RESPONSE_MAX_BYTES) return { ok: false, reason: 'too-large' };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** The id the browser sent must be the canonical base64url of the bytes (as `rawId`). */
function canonicalId(id: string, rawId: string): boolean {
  const bytes = Buffer.from(rawId, 'base64url');
  return bytes.length > 0 && bytes.toString('base64url') === rawId.replace(/=+$/, '') && id.replace(/=+$/, '') === rawId.replace(/=+$/, '');
}

export function parseRegistrationResponse(raw: string | undefined): Parsed<RegistrationResponseJSON> {
  const json = parseJson(raw);
  if (!json.ok) return json;
  const parsed = registrationSchema.safeParse(json.value);
  if (!parsed.success || !canonicalId(parsed.data.id, parsed.data.rawId)) return { ok: false, reason: 'malformed' };
  return { ok: true, value: parsed.data };
}

export function parseAuthenticationResponse(raw: string | undefined): Parsed<AuthenticationResponseJSON> {
  const json = parseJson(raw);
  if (!json.ok) return json;
  const parsed = authenticationSchema.safeParse(json.value);
  if (!parsed.success || !canonicalId(parsed.data.id, parsed.data.rawId)) return { ok: false, reason: 'malformed' };
  return { ok: true, value: parsed.data };
}

/** clientDataJSON (base64url of UTF-8 JSON) as an object, or undefined when it is not that. */
export function decodeClientData(clientDataJSON: string): ClientData | undefined {
  try {
    const parsed = clientDataSchema.safeParse(JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const CEREMONY_ERRORS = ['cancelled', 'exists', 'failed'] as const;
export type CeremonyError = (typeof CEREMONY_ERRORS)[number];

/**
 * What passkey.js reports when the browser's dialog gave no result: `cancelled` (the patient
 * closed it, or it timed out: browsers do not tell these apart, on purpose), `exists` (this
 * authenticator holds a passkey of the account already) or `failed`. Undefined when the form
 * carries no such report. The flow shows the method choice with an explanation
 * (`passkey.errors.<kind>`); the patient's browser said it, so it is no failed sign-in.
 */
export function ceremonyError(form: Record<string, string>): CeremonyError | undefined {
  const value = form[PASSKEY_ERROR_FIELD];
  return (CEREMONY_ERRORS as readonly string[]).includes(value ?? '') ? (value as CeremonyError) : undefined;
}
