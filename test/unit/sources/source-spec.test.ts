import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { FILE_SOURCE_SCHEMA } from '../../../src/sources/webhook-config.js';
import { SOURCE_DEFAULTS, SOURCE_SPEC_PROPERTIES, fileKeys, toSource } from '../../../src/sources/source-spec.js';
import { renderWebhookSourceCrd, sourceNameOf, webhookSourceOrigin } from '../../../src/kubernetes/webhook-source-crd.js';

const CRD_FILE = 'crds/triagewarden.io_webhooksources.yaml';

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; additionalProperties?: Schema | boolean };

/** The spec schema of the checked-in CRD, as the API server will read it. */
function checkedInSpecSchema(): Schema {
  const crd = parse(readFileSync(CRD_FILE, 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
}

/** What both formats must agree on for one field: everything but wording and Kubernetes-only keys. */
function bounds(schema: Schema): Record<string, unknown> {
  const { description: _description, properties, additionalProperties, required, 'x-kubernetes-validations': _rules, ...rest } = schema;
  return {
    ...rest,
    ...(required !== undefined && { required }),
    ...(properties && { properties: Object.fromEntries(Object.entries(properties).map(([key, field]) => [key, bounds(field)])) }),
    ...(typeof additionalProperties === 'object' && { additionalProperties: bounds(additionalProperties) }),
  };
}

/** A file-format field schema put back into the CRD's words, so the two compare key by key. */
function inCrdWords(schema: Schema, properties: Readonly<Record<string, unknown>>): Schema {
  const { additionalProperties, properties: fileProperties, required, ...rest } = schema;
  const camel = Object.keys(properties);
  return {
    ...rest,
    ...(typeof additionalProperties === 'object' && { additionalProperties }),
    ...(required !== undefined && { required: (required as string[]).map((key) => camel.find((name) => fileKeys(name) === key) ?? key) }),
    ...(fileProperties && {
      properties: Object.fromEntries(camel.map((key) => [key, fileProperties[fileKeys(key)]!])),
    }),
  };
}

describe('one source spec, two formats', () => {
  it('the checked-in CRD is exactly the one generated from the spec (run `npm run generate:crds` after changing it)', () => {
    assert.equal(readFileSync(CRD_FILE, 'utf8'), renderWebhookSourceCrd());
  });

  it("the CRD and webhook_config.yaml agree on every field's type, bounds, defaults and enums", () => {
    const crdFields = checkedInSpecSchema().properties!;
    const fileFields = (FILE_SOURCE_SCHEMA as Schema).properties!;
    for (const field of Object.keys(SOURCE_SPEC_PROPERTIES)) {
      const crd = crdFields[field];
      const file = fileFields[fileKeys(field)];
      assert.ok(crd, `the CRD lacks ${field}`);
      assert.ok(file, `webhook_config.yaml lacks ${fileKeys(field)}`);
      const nested = (crd.properties ?? {}) as Record<string, unknown>;
      const fileInCrdWords = bounds(inCrdWords(file, nested));
      if (field === 'suspend') {
        // The file words it `enabled`: the same boolean the other way round, so the default flips.
        assert.deepEqual({ ...fileInCrdWords, default: !fileInCrdWords.default }, bounds(crd));
      } else assert.deepEqual(fileInCrdWords, bounds(crd), field);
    }
    assert.deepEqual(Object.keys(crdFields).sort(), [...Object.keys(SOURCE_SPEC_PROPERTIES), 'secretRef', 'sourceName'].sort());
  });

  it("the CRD's defaults are the ones toSource applies", () => {
    const crdFields = checkedInSpecSchema().properties!;
    for (const [field, value] of Object.entries(SOURCE_DEFAULTS)) assert.equal(crdFields[field]?.default, value, field);
  });
});

describe('toSource', () => {
  const declared = { name: 'edr', origin: 'kubernetes:ns/edr', secrets: [Buffer.from('s1'), Buffer.from('s0')] };

  it('applies the defaults to a spec that sets nothing', () => {
    assert.deepEqual(toSource({ ...declared, spec: {} }), {
      name: 'edr',
      origin: 'kubernetes:ns/edr',
      secrets: [Buffer.from('s1'), Buffer.from('s0')],
      verification: 'hmac-sha256',
      format: undefined,
      autoTriage: false,
      playbook: undefined,
      severityMapping: {},
      toleranceSeconds: 300,
      maxBodyBytes: 1024 * 1024,
      rateLimit: undefined,
      processing: 'sync',
      filter: undefined,
      enabled: true,
      retentionDays: undefined,
      rawBodyRetentionDays: undefined,
    });
  });

  it('maps every field, defaulting the burst to the rate and suspend to a disabled source', () => {
    const source = toSource({
      ...declared,
      spec: {
        format: 'splunk',
        verification: 'token',
        autoTriage: true,
        playbook: 'p',
        severityMapping: { '4': 'high' },
        toleranceSeconds: 60,
        maxBodyBytes: 2048,
        rateLimit: { requestsPerSecond: 7 },
        processing: 'async',
        filter: { match: 'payload.severity != "low"', labels: { team: '"blue"' } },
        suspend: true,
        retentionDays: 90,
        rawBodyRetentionDays: 14,
        // A WebhookSource spec passes as is: its Kubernetes-only fields are ignored.
        ...{ sourceName: 'other', secretRef: { name: 'x' } },
      },
    });
    assert.equal(source.name, 'edr');
    assert.equal(source.format, 'splunk');
    assert.equal(source.verification, 'token');
    assert.equal(source.autoTriage, true);
    assert.equal(source.playbook, 'p');
    assert.deepEqual(source.severityMapping, { '4': 'high' });
    assert.equal(source.toleranceSeconds, 60);
    assert.equal(source.maxBodyBytes, 2048);
    assert.deepEqual(source.rateLimit, { requestsPerSecond: 7, burst: 7 });
    assert.equal(source.processing, 'async');
    assert.deepEqual(source.filter?.spec, { match: 'payload.severity != "low"', labels: { team: '"blue"' } });
    assert.equal(source.filter?.labels.length, 1);
    assert.equal(source.enabled, false);
    assert.equal(source.retentionDays, 90);
    assert.equal(source.rawBodyRetentionDays, 14);
  });
});

describe('a WebhookSource object as a claim', () => {
  it('is spec.sourceName when set, else metadata.name', () => {
    assert.equal(sourceNameOf({ metadata: { name: 'obj' }, spec: { secretRef: { name: 's' } } }), 'obj');
    assert.equal(sourceNameOf({ metadata: { name: 'obj' }, spec: { sourceName: 'edr', secretRef: { name: 's' } } }), 'edr');
  });

  it('is declared at kubernetes:<namespace>/<name>', () => {
    assert.equal(webhookSourceOrigin('team-a', 'edr'), 'kubernetes:team-a/edr');
  });
});
