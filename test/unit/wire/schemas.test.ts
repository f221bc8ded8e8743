/** The JSON the API answers fits the schemas the OpenAPI document publishes for it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { toSource } from '../../../src/sources/source-spec.js';
import { SOURCE_JSON_SCHEMA, sourceJson } from '../../../src/wire/source.js';
import { DELIVERY_JSON_SCHEMA, deliveryJson } from '../../../src/wire/delivery.js';
import { API_KEY_JSON_SCHEMA, apiKeyJson } from '../../../src/wire/api-key.js';
import { OPENAPI_DOCUMENT } from '../../../src/http/api/openapi.js';

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
/** Every property the shape has is one the schema describes, and the value fits. */
function assertFits(schema: { properties: Record<string, unknown> }, value: Record<string, unknown>) {
  const validate = ajv.compile({ ...schema, additionalProperties: false, required: Object.keys(schema.properties) });
  assert.ok(validate(value), JSON.stringify(validate.errors));
}

describe('the wire shapes and their published schemas', () => {
  it('a source with an empty spec and one with every field set fit Source, with the source name pattern', () => {
    const bare = toSource({ name: 'edr', origin: 'api', spec: {}, secrets: [Buffer.from('s')] });
    const full = toSource({
      name: 'siem',
      origin: 'file:/etc/tw/webhook_config.yaml',
      spec: {
        format: 'splunk',
        verification: 'token',
        autoTriage: true,
        playbook: 'phishing_triage',
        severityMapping: { p1: 'critical' },
        toleranceSeconds: 60,
        maxBodyBytes: 2048,
        rateLimit: { requestsPerSecond: 5, burst: 10 },
        processing: 'async',
        suspend: true,
      },
      secrets: [Buffer.from('a'), Buffer.from('b')],
    });
    for (const source of [bare, full]) assertFits(SOURCE_JSON_SCHEMA, sourceJson(source));
    assert.equal(OPENAPI_DOCUMENT.components.schemas.Source, SOURCE_JSON_SCHEMA);
  });

  it('a delivery record and an API key fit Delivery and ApiKey', () => {
    assertFits(
      DELIVERY_JSON_SCHEMA,
      deliveryJson({
        at: new Date().toISOString(),
        source: '_unknown',
        status: 404,
        code: 'unknown_source',
        latencyMs: 1.5,
        incidentId: null,
        incidentNumber: null,
        queueId: null,
        remoteAddress: '127.0.0.1',
      }),
    );
    assertFits(
      API_KEY_JSON_SCHEMA,
      apiKeyJson({ id: 'k1', name: 'ci', scopes: ['incidents:read'], hash: 'h', createdAt: new Date().toISOString(), expiresAt: null, lastUsedAt: null }),
    );
  });
});
