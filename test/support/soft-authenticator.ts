// A passkey authenticator in the test process, for tests that play the patient's browser without
// Chromium (test/support/user-agent.ts): it answers the options a page carries with the JSON
// @simplewebauthn/browser would post, signed with a real P-256 key, so the server's verification
// runs in full. Unlike the CDP virtual authenticator it lets a test sign what a browser never
// would: another origin, another RP ID, another flow's challenge, another account's passkey.
// Attestation is `none` (what we ask for), the credential is discoverable, the key is ES256.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** The subset of WebAuthn's options JSON the authenticator reads. */
export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string };
}

export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string }>;
}

/** What a ceremony claims, each overridable to make a response a browser would not. */
export interface CeremonyClaims {
  /** The page's origin, e.g. `http://localhost:1234`. */
  origin: string;
  /** The RP ID hashed into the authenticator data; default the options' RP ID. */
  rpId?: string;
  /** User verification (PIN, fingerprint) done; default true. */
  userVerified?: boolean;
  /** The challenge signed; default the options' challenge. */
  challenge?: string;
}

interface SoftCredential {
  id: Buffer;
  key: KeyObject;
  userHandle: string;
  rpId: string;
  signCount: number;
}

// A minimal CBOR encoder (RFC 8949) for what attestation `none` needs: unsigned and negative
// integers, byte and text strings, and maps of them.
type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const head = Buffer.alloc(5);
  head[0] = (major << 5) | 26;
  head.writeUInt32BE(length, 1);
  return head;
}

function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  return Buffer.concat([cborHead(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64url = (data: Buffer | Uint8Array) => Buffer.from(data).toString('base64url');

const FLAG = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40 } as const;

export class SoftAuthenticator {
  private readonly credentials: SoftCredential[] = [];

  /** synced: backup eligible and backed up (swk), like a phone's synced passkeys; else device-bound (hwk). */
  constructor(private readonly options: { synced?: boolean } = {}) {}

  /** Credential ids (base64url) it holds, oldest first. */
  ids(): string[] {
    return this.credentials.map((c) => b64url(c.id));
  }

  /** The counter it will report one below (a clone's view): the next assertion reports `count`. */
  setSignCount(credentialId: string, count: number): void {
    const credential = this.credentials.find((c) => b64url(c.id) === credentialId);
    if (!credential) throw new Error(`no credential ${credentialId}`);
    credential.signCount = count - 1;
  }

  private flags(userVerified: boolean, extra = 0): number {
    return FLAG.up | (userVerified ? FLAG.uv : 0) | (this.options.synced ? FLAG.be | FLAG.bs : 0) | extra;
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  }

  /** navigator.credentials.create(): makes a new credential and returns the registration JSON. */
  register(options: CreationOptions, claims: CeremonyClaims): Record<string, unknown> {
    const rpId = claims.rpId ?? options.rp.id ?? new URL(claims.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = new Map<number, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]);
    const id = randomBytes(16);
    const counter = Buffer.alloc(4);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(claims.userVerified ?? true, FLAG.at)]), counter, Buffer.alloc(16), idLength, id, cbor(cose)]);
    const attestationObject = cbor(new Map<string, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    this.credentials.push({ id, key: privateKey, userHandle: options.user.id, rpId, signCount: 0 });
    return {
      id: b64url(id), rawId: b64url(id), type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', claims.challenge ?? options.challenge, claims.origin)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
    };
  }

  /**
   * navigator.credentials.get(): signs with `credentialId`, else the first allowed credential it
   * holds, else (a discoverable request) its newest one.
   */
  authenticate(options: RequestOptions, claims: CeremonyClaims & { credentialId?: string }): Record<string, unknown> {
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const credential = claims.credentialId !== undefined
      ? this.credentials.find((c) => b64url(c.id) === claims.credentialId)
      : this.credentials.find((c) => allowed.has(b64url(c.id))) ?? (allowed.size === 0 ? this.credentials.at(-1) : undefined);
    if (!credential) throw new Error('the authenticator holds no passkey for these options');
    credential.signCount += 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(credential.signCount);
    const rpId = claims.rpId ?? options.rpId ?? credential.rpId;
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(claims.userVerified ?? true)]), counter]);
    const clientDataJSON = this.clientData('webauthn.get', claims.challenge ?? options.challenge, claims.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.key);
    return {
      id: b64url(credential.id), rawId: b64url(credential.id), type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature), userHandle: credential.userHandle,
      },
    };
  }
}

/** The options JSON a passkey page carries (`<script type="application/json" id="passkey-options">`). */
export function passkeyOptionsOf<T>(html: string): T {
  const match = /<script type="application\/json" id="passkey-options">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('no passkey options on this page');
  return JSON.parse(match[1]!) as T;
}
