import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { OPENAPI_DOCUMENT } from '../../src/http/api/openapi.js';
import { apiRouter } from '../../src/http/api/api-router.js';
import type { Store } from '../../src/store/store.js';

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
  it('describes every /api route the router serves, with its method', () => {
    const unused = () => {
      throw new Error('not called');
    };
    const store = new Proxy({}, { get: () => ({}) }) as unknown as Store;
    const router = apiRouter({ store, authenticate: unused, forgetApiKey: unused, follow: unused, nowMs: Date.now, webhooks: { sources: { get: unused, list: unused }, registrations: {} as never, registrationEnabled: true, selfUrl: unused, nowMs: Date.now } });
    const documented = OPENAPI_DOCUMENT.paths as Record<string, Record<string, unknown>>;
    const served = router.stack.filter((layer) => layer.methods.length > 0);
    assert.ok(served.length >= 12, `router has ${served.length} routes`);
    for (const layer of served) {
      const path = String(layer.path).replace(/\/$/, '').replace(/:(\w+)/g, '{$1}');
      const operations = documented[path];
      assert.ok(operations, `${path} is not documented`);
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) assert.ok(operations[method.toLowerCase()], `${method} ${path} is not documented`);
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
});
