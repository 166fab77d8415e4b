// The `max_age` a request asks for, in seconds, or undefined when it asks none (or nonsense, which
// oidc-provider refuses before any interaction starts). Read by the login-prompt checks and by
// the flows (a step-up may only reuse a password that is recent enough for it).
export function requestedMaxAge(params: Record<string, unknown>): number | undefined {
  const value = params.max_age;
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
