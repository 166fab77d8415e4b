// Types for the two oidc-provider v9 internals live-keys.ts uses (the package ships no types for
// them; its public types stop at the Provider). Read from lib/helpers/initialize_keystore.js and
// lib/helpers/weak_cache.js of oidc-provider 9.13.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  /** Validates `jwks` as the constructor does and replaces the provider's key store and published JWKS. */
  export default function initializeKeyStore(this: object, jwks: { keys: Record<string, unknown>[] }): void;
}

declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  /** The provider's private state (configuration, keystore, jwks, ...). */
  export default function instance(provider: object): { jwks?: { keys?: { kid?: unknown }[] } } | undefined;
}
