import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { OPENAPI_DOCUMENT, openApiPath } from '../../../src/http/api/openapi.js';
import { ROUTES } from '../../../src/http/routes.js';

/** Every `$ref` in a document, as found. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refs(item, found));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref') found.push(String(item));
      else refs(item, found);
    }
  }
  return found;
}

describe('the OpenAPI document', () => {
  it('has one operation per row of the route table, with its method and the scope it needs, and no other', () => {
    const documented = OPENAPI_DOCUMENT.paths as Record<string, Record<string, { operationId: string; security: unknown[] }>>;
    const operations = Object.entries(documented).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
    assert.equal(operations.length, ROUTES.length);
    for (const row of ROUTES) {
      const operation = documented[openApiPath(row.path)]?.[row.method.toLowerCase()];
      assert.ok(operation, `${row.method} ${row.path} is not documented`);
      assert.equal(operation.operationId, row.id);
      assert.deepEqual(operation.security, typeof row.access === 'string' ? [] : [{ apiKey: [row.access.scope] }], `${row.id}'s security`);
    }
  });

  it('is OpenAPI 3.1 whose references all resolve and whose request schemas accept the spec example', () => {
    assert.equal(OPENAPI_DOCUMENT.openapi, '3.1.0');
    const schemas = OPENAPI_DOCUMENT.components.schemas as Record<string, unknown>;
    for (const ref of refs(OPENAPI_DOCUMENT)) assert.ok(schemas[ref.replace('#/components/schemas/', '')], `${ref} does not resolve`);
    const registration = new Ajv({ strict: false }).compile(schemas.Registration as object);
    assert.equal(registration({ source: 'email-gateway', secret: 'your-secret-key', auto_triage: true, playbook: 'phishing_triage' }), true);
    assert.equal(registration({ source: 'Email_Gateway', secret: 'x' }), false, 'names are DNS labels');
    assert.equal(registration({ source: 'edr', secret: 'x', tolerance_seconds: 5 }), false, 'the bounds of the source spec');
  });

  it('links each answer to operations that exist, giving them parameters they take', () => {
    type Operation = { operationId: string; parameters?: { name: string }[]; responses: Record<string, { links?: Record<string, LinkObject> }> };
    type LinkObject = { operationId: string; parameters: Record<string, string> };
    const operations = Object.values(OPENAPI_DOCUMENT.paths as Record<string, Record<string, Operation>>).flatMap((methods) => Object.values(methods));
    const byId = new Map(operations.map((operation) => [operation.operationId, operation]));
    const links = operations.flatMap((operation) => Object.values(operation.responses).flatMap((response) => Object.values(response.links ?? {})));
    assert.ok(links.length > 0);
    for (const link of links) {
      const target = byId.get(link.operationId);
      assert.ok(target, `a link to ${link.operationId}, which is no operation`);
      for (const name of Object.keys(link.parameters)) {
        assert.ok(
          target.parameters?.some((parameter) => parameter.name === name),
          `${link.operationId} takes no parameter ${name}`,
        );
      }
    }
  });
});
