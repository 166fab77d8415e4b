// The admin REST API under /admin/api: bearer tokens only (an admin API access token from our own
// token endpoint, checked in the process; cookies are never looked at, so the console's session is
// no bearer), the scope before anything else, then path, query and body against the route's
// schemas, If-Match where the route changes a record, and one admin operation. Every refusal is
// problem+json; nothing is changed by a refused request.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import type { Services } from '../../services.ts';
import { StoreUnavailableError } from '../../store/errors.ts';
import type { AdminTokenHolder } from '../../oidc/admin-resource.ts';
import type { Actor, AdminOperations } from '../operations/index.ts';
import { OperationError } from '../operations/errors.ts';
import { ForbiddenError } from '../operations/access.ts';
import { API_BASE, openApiDocument } from './openapi.ts';
import { fromOperationError, problem, ProblemError, sendProblem, unauthorized } from './problem.ts';
import { ROUTES, type RouteDef } from './routes.ts';

export interface AdminApiOptions {
  services: Services;
  operations: AdminOperations;
  verifyToken(token: string): Promise<AdminTokenHolder | undefined>;
}

function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.flatMap((issue) => issue.code === 'unrecognized_keys'
    ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: `unknown ${where}` }))
    : [{ field: issue.path.join('.') || where, message: issue.message }]);
  throw problem(400, 'invalid_input', `invalid ${where}`, errors);
}

/** A request carries a body when it says so (Content-Length above 0, or chunked). */
const hasBody = (ctx: Context) => Number(ctx.get('content-length') || '0') > 0 || ctx.get('transfer-encoding') !== '';

export function adminApi(options: AdminApiOptions): Middleware {
  const { services, operations } = options;
  const parser = bodyParser({
    enableTypes: ['json'],
    jsonLimit: services.config.admin.maxBodyBytes,
    jsonStrict: true,
    encoding: 'utf-8',
    onError: (error) => {
      const status = (error as { status?: number }).status;
      throw status === 413 ? problem(413, 'body_too_large', `the body is larger than ${services.config.admin.maxBodyBytes} bytes`) : problem(400, 'invalid_json', 'the body is not a JSON object');
    },
  });

  async function actorOf(ctx: Context): Promise<Actor & { kind: 'api' }> {
    const match = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'));
    if (!match) throw unauthorized('an admin API access token is required (Authorization: Bearer ...)');
    const holder = await options.verifyToken(match[1]!);
    if (!holder) throw unauthorized('the token is not a valid admin API access token (expired, revoked, or for another audience)');
    const organisations = await services.store.organisations.memberships('client', holder.clientId);
    return { kind: 'api', clientId: holder.clientId, scopes: holder.scopes, organisations, ip: ctx.ip, userAgent: ctx.get('user-agent') || null };
  }

  async function readBody(ctx: Context, route: RouteDef): Promise<unknown> {
    if (!hasBody(ctx)) return {};
    if (!route.body) throw problem(400, 'invalid_input', 'this route takes no body');
    if (!ctx.is('application/json')) throw problem(415, 'unsupported_media_type', 'send application/json');
    await parser(ctx, async () => undefined);
    return (ctx.request as { body?: unknown }).body ?? {};
  }

  function handler(route: RouteDef): Middleware {
    return async (ctx) => {
      const actor = await actorOf(ctx);
      if (!actor.scopes.includes(route.scope)) {
        throw fromOperationError(new ForbiddenError(`this route needs the scope ${route.scope}`, route.scope));
      }
      const params = route.params ? validate(route.params, { ...ctx.params }, 'path parameter') as Record<string, string> : {};
      validate(route.query, { ...ctx.query }, 'query parameter');
      const body = await readBody(ctx, route);
      if (route.body) validate(route.body, body, 'field');
      const ifMatch = ctx.get('if-match') || undefined;
      if (route.ifMatch && !ifMatch) throw problem(428, 'precondition_required', 'send If-Match with the ETag of your last read of this record');
      const answer = await route.handle({ actor, ops: operations, params, query: { ...ctx.query }, body, ifMatch });
      ctx.status = answer.status ?? route.response.status;
      if (answer.etag) ctx.set('ETag', answer.etag);
      if (answer.csv) {
        ctx.type = 'text/csv; charset=utf-8; header=present';
        ctx.set('Content-Disposition', `attachment; filename="${answer.csv.filename}"`);
        const rows = answer.csv.rows;
        ctx.body = (await import('node:stream')).Readable.from(rows);
      } else if (answer.body !== undefined) {
        ctx.body = answer.body;
      }
    };
  }

  const router = new Router({ prefix: API_BASE });
  for (const route of ROUTES) router[route.method](route.path.replace(/\{(\w+)\}/g, ':$1'), handler(route));
  const routes = router.routes();
  const methods = router.allowedMethods({ throw: true });
  const document = () => openApiDocument(services.config.issuer);

  return async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      if (ctx.path === '/admin/api/openapi.json') {
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw problem(405, 'method_not_allowed', 'GET only');
        ctx.body = document();
        return;
      }
      if (!ctx.path.startsWith(`${API_BASE}/`)) throw problem(404, 'not_found', 'no such route');
      const routed = ctx as Parameters<typeof routes>[0];
      await routes(routed, async () => {
        await methods(routed as Parameters<typeof methods>[0], async () => undefined);
        if (ctx.status === 404 && ctx.body === undefined) throw problem(404, 'not_found', 'no such route');
      });
    } catch (error) {
      const answer = toProblem(error, services);
      sendProblem(ctx, answer, ctx.path);
      if (answer.problem.status === 503) ctx.set('Retry-After', '30');
    }
    void next;
  };
}

function toProblem(error: unknown, services: Services): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof OperationError) return fromOperationError(error);
  const status = (error as { status?: number }).status;
  if (status === 405) return problem(405, 'method_not_allowed', 'this route does not take that method');
  if (status === 501) return problem(405, 'method_not_allowed', 'this route does not take that method');
  if (error instanceof StoreUnavailableError) return problem(503, 'temporarily_unavailable', 'the store is unavailable; try again in a minute');
  services.logger.error({ err: { message: (error as Error)?.message, stack: (error as Error)?.stack } }, 'admin api error');
  return problem(500, 'server_error', 'something went wrong on our side');
}
