// What is known about the request being served, wherever the code runs while serving it: the
// logger adds the request id to every line (log.ts), and the request log line adds the portal and
// the flow once some layer has learnt them. AsyncLocalStorage carries it through every await, so
// no function signature has to pass it down.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  readonly requestId: string;
  /** The route pattern that answered (`/interaction/:uid`), never the path: paths carry ids. */
  route?: string;
  /** The portal (client_id), once a flow or oidc-provider has named it. */
  clientId?: string;
  /** The hosted flow (login, settings, ...) this request belongs to, once it was loaded or saved. */
  flowId?: string;
  /** Work that must not delay the answer (afterResponse): run once the response has gone out. */
  readonly afterResponse?: Array<() => Promise<void>>;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequest<A extends unknown[], T>(context: RequestContext, fn: (...args: A) => T, ...args: A): T {
  return storage.run(context, fn, ...args);
}

/** The request being served, or undefined outside a request (start, timers, the CLI). */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** A flow was read or written while serving this request: its id (and portal) go to the request log. */
export function noteFlow(flow: { id: string; clientId: string | null }): void {
  const context = storage.getStore();
  if (!context) return;
  context.flowId = flow.id;
  if (flow.clientId) context.clientId ??= flow.clientId;
}

/**
 * Runs `task` once the response to this request has been sent (the request log's listener runs
 * them), in the request's context so its log lines keep the request id. Why: work only some
 * answers do — rendering and handing over a mail for a real account — must not make those answers
 * slower than the others (no account oracle in timing). `task` must catch and log its own errors:
 * nobody is waiting for it. Outside a request (start, the CLI, tests without the request log) it
 * runs on the next turn of the event loop.
 */
export function afterResponse(task: () => Promise<void>): void {
  const tasks = storage.getStore()?.afterResponse;
  if (tasks) tasks.push(task);
  else setImmediate(() => void task());
}

/**
 * Starts the tasks `context` collected, on the next turn (called when the response was sent or the
 * client left, so the request's own log line and metric are not held up by them either).
 */
export function runAfterResponse(context: RequestContext): void {
  const tasks = context.afterResponse?.splice(0) ?? [];
  if (tasks.length === 0) return;
  setImmediate(() => {
    for (const task of tasks) runInRequest(context, () => void task());
  });
}
