// The OpenAPI 3.1 document of the admin API, generated from the route table and the operations'
// zod schemas (z.toJSONSchema): the schemas that validate input are the ones documented.
import { z } from 'zod';
import { ROUTES, type RouteDef } from './routes.ts';

export const API_BASE = '/admin/api/v1';

type JsonSchema = Record<string, unknown>;

/** Every schema with an id, as components; references point at `#/components/schemas/<id>`. */
function components(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { io: 'input', target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => {
    const { $schema: _schema, $id: _id, ...rest } = schema as JsonSchema;
    return [id, rest];
  }));
}

function inline(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: `#/components/schemas/${id}` };
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(route: RouteDef): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(route.params?.shape ?? {})) out.push({ name, in: 'path', required: true, schema: inline(schema as z.ZodType, 'input') });
  const query = z.toJSONSchema(route.query, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  for (const [name, schema] of Object.entries(query.properties ?? {})) {
    out.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema, ...(typeof schema.description === 'string' ? { description: schema.description } : {}) });
  }
  if (route.ifMatch) out.push({ name: 'If-Match', in: 'header', required: true, description: 'The ETag of the read this change is based on.', schema: { type: 'string' } });
  return out;
}

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

function operation(route: RouteDef): JsonSchema {
  const success = route.response.csv
    ? { description: route.response.description, content: { 'text/csv': { schema: { type: 'string' } } } }
    : {
      description: route.response.description,
      ...(route.response.etag ? { headers: { ETag: { schema: { type: 'string' } } } } : {}),
      ...(route.response.schema ? { content: { 'application/json': { schema: inline(route.response.schema, 'output') } } } : {}),
    };
  return {
    operationId: route.operationId,
    summary: route.summary,
    security: [{ adminToken: [route.scope] }],
    'x-required-scope': route.scope,
    parameters: parameters(route),
    ...(route.body ? { requestBody: { required: false, content: { 'application/json': { schema: inline(route.body, 'input') } } } } : {}),
    responses: {
      [String(route.response.status)]: success,
      400: problem('Invalid input: unknown fields, wrong types, a bad cursor or filter (problem+json with `errors`).'),
      401: problem('No token, or not a valid admin API token.'),
      403: problem('The token lacks the scope (`insufficient_scope`), or the record is outside its organisations.'),
      404: problem('No such record within reach.'),
      ...(route.body ? { 413: problem('Body larger than ADMIN_API_MAX_BODY_BYTES.'), 415: problem('Not application/json.') } : {}),
      ...(route.ifMatch ? { 412: problem('If-Match does not match the current ETag.'), 428: problem('If-Match is missing.') } : {}),
    },
  };
}

export function openApiDocument(issuer: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of ROUTES) (paths[`${API_BASE}${route.path}`] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: { title: 'Poortwachter admin API', version: '1', description: 'Portals, accounts and the audit log of a Poortwachter identity provider. Bearer: an access token from the client_credentials grant of a service client (`poortwachter client add --service --scopes ...`) for the resource `<issuer>/admin/api`.' },
    servers: [{ url: issuer }],
    paths,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { 'admin:clients': 'portals and registration tokens', 'admin:accounts': 'patient accounts', 'admin:audit': 'the audit log' } } },
        },
      },
      schemas: {
        ...components(),
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem details.',
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' }, errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } } },
          required: ['type', 'title', 'status'],
        },
      },
    },
  };
}
