/** The test event: its marker, and a payload per format that each normalizer takes as a real alert of its own. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isTestEvent, testEventPayload } from '../../../src/normalize/test-event.js';
import { normalize } from '../../../src/normalize/index.js';
import { detectFormat } from '../../../src/normalize/detect.js';
import { FORMATS } from '../../../src/incidents/model.js';
import { testSource } from '../../helpers/source.js';

const NOW = new Date('2026-12-03T10:00:00.000Z');

describe('test events', () => {
  it('are marked by a top-level tw_test_event: true and nothing else', () => {
    assert.equal(isTestEvent({ tw_test_event: true }), true);
    for (const payload of [
      { tw_test_event: 'true' },
      { tw_test_event: 1 },
      { data: { tw_test_event: true } },
      [{ tw_test_event: true }],
      null,
      'tw_test_event',
      true,
      {},
    ])
      assert.equal(isTestEvent(payload), false, JSON.stringify(payload));
  });

  for (const format of [...FORMATS, undefined]) {
    it(`in the ${format ?? 'default (generic)'} shape: marked, detected as that format and normalized by it`, () => {
      const payload = testEventPayload(format, 'edr', 'test-1', NOW);
      assert.equal(isTestEvent(payload), true);
      const expected = format ?? 'generic';
      assert.equal(detectFormat(payload).format, expected, 'a source that is not pinned reads it the same way');
      const draft = normalize(payload, testSource({ name: 'edr', format }));
      assert.ok(draft.ok, draft.ok ? '' : draft.error);
      assert.equal(draft.value.format, expected);
      // A Splunk alert with a result row is keyed by its body, not the search id (distinct rows stay distinct).
      assert.equal(draft.value.externalId, format === 'splunk' ? null : 'test-1');
      assert.equal(draft.value.severity, 'info');
      assert.match(JSON.stringify(payload), /Test event sent by tw-webhooks|"event_type":"test"/);
    });
  }

  it('carries its time and source in the generic shape', () => {
    assert.deepEqual(testEventPayload(undefined, 'email-gateway', 'id-9', NOW), {
      tw_test_event: true,
      event_type: 'test',
      timestamp: '2026-12-03T10:00:00.000Z',
      source: 'email-gateway',
      data: { alert_id: 'id-9', severity: 'info', details: { message: 'Test event sent by tw-webhooks (webhook test)' } },
    });
  });
});
