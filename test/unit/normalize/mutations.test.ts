/**
 * A family's payload with fields missing, added or of the wrong type still normalizes with what
 * is there: every mutation of every fixture gives a valid draft (never a throw), unknown fields
 * change nothing, and a missing field only takes away.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { IncidentDraft } from '../../../src/incidents/model.js';
import { normalize } from '../../../src/normalize/index.js';
import { isObject, type JsonObject } from '../../../src/normalize/fields.js';
import { testSource } from '../../helpers/source.js';

const FIXTURES = readdirSync(new URL('../../fixtures/payloads/', import.meta.url)).filter((name) => name.endsWith('.json'));
const load = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/payloads/${name}`, import.meta.url), 'utf8')) as JsonObject;
const expected = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/payloads/expected/${name}`, import.meta.url), 'utf8')) as IncidentDraft;

function draftOf(payload: unknown): IncidentDraft {
  const draft = normalize(payload, testSource({ name: 'vendor' }));
  assert.ok(draft.ok, draft.ok ? '' : draft.error);
  return draft.value;
}

/** Every object in the payload (the records a vendor's fields live on), each with its path. */
function objectsOf(root: JsonObject): Array<{ path: string; object: JsonObject }> {
  const found: Array<{ path: string; object: JsonObject }> = [];
  const visit = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${path}[${i}]`));
    else if (isObject(value)) {
      found.push({ path, object: value });
      for (const [key, child] of Object.entries(value)) visit(child, `${path}.${key}`);
    }
  };
  visit(root, '$');
  return found;
}

function assertSubset(part: IncidentDraft['observables'], whole: IncidentDraft['observables'], label: string) {
  for (const [kind, values] of Object.entries(part) as Array<[keyof typeof part, string[]]>) {
    // Without its directory a file is its bare name: less than before, not something new.
    for (const value of values)
      assert.ok(
        whole[kind].some((known) => known.endsWith(value)),
        `${label}: ${kind} ${value} appeared`,
      );
  }
}

describe('a payload with fields missing still normalizes with what is there', () => {
  for (const name of FIXTURES) {
    it(name, () => {
      const full = expected(name);
      const payload = load(name);
      for (const { path, object } of objectsOf(payload)) {
        for (const key of Object.keys(object)) {
          const value = object[key];
          delete object[key];
          const draft = draftOf(payload);
          // A missing field takes indicators away, never adds any, while the family is still recognized.
          if (draft.format === full.format) assertSubset(draft.observables, full.observables, `${path}.${key}`);
          object[key] = value;
        }
      }
    });
  }
});

const LONG_TEXT = 'x'.repeat(5000);

describe('fields of an unexpected type are ignored, never a crash', () => {
  const strangers: unknown[] = [null, 0, -1.5, true, [], {}, [null, 42, {}], LONG_TEXT, { '@odata.type': 42 }];
  for (const name of FIXTURES) {
    it(name, () => {
      const full = expected(name);
      const payload = load(name);
      for (const { object } of objectsOf(payload)) {
        for (const key of Object.keys(object)) {
          const value = object[key];
          for (const stranger of strangers) {
            object[key] = stranger;
            const result = normalize(payload, testSource({ name: 'vendor' }));
            // A vendor id is never cut (a cut id would merge distinct events): an oversized one is
            // refused as invalid_payload, the one refusal a stranger value may cause.
            if (!result.ok && stranger === LONG_TEXT) {
              assert.match(result.error, /externalId must NOT have more than \d+ characters/);
              continue;
            }
            assert.ok(result.ok, result.ok ? '' : result.error);
            assert.ok(result.value.title.length > 0);
          }
          object[key] = value;
        }
      }
      assert.deepEqual(draftOf(payload), full, 'restored payload normalizes as before');
    });
  }
});

describe('unknown vendor fields change nothing', () => {
  const extras: JsonObject = {
    futureField: null,
    x_vendor_extension: { nested: [1, null, true, { deeper: [] }], flag: false },
    riskScoreV9: 87.5,
    labels: [],
  };
  for (const name of FIXTURES) {
    it(name, () => {
      const payload = load(name);
      for (const { object } of objectsOf(payload)) Object.assign(object, structuredClone(extras));
      assert.deepEqual(draftOf(payload), expected(name));
    });
  }
});
