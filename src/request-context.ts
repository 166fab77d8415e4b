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
