// The after-hooks a flow kind may list (flows/kit/kind.ts `hooks`), in the order they run. Adding
// one: a file here, a test, and the kinds that want it list it.
export { auditHook } from './audit-hook.ts';
export { notifyHook } from './notify-hook.ts';
export { revokeHook } from './revoke-hook.ts';
export { clearLockHook } from './clear-lock-hook.ts';
export type { AfterHook, HookContext } from './hook.ts';
