/** The image runs the service with the same node flags as `npm start` (and the bench, which reads them there). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { imageCommand, serviceNodeFlags } from '../helpers/service-command.js';

describe('service command', () => {
  it("gives the image's CMD the node flags of npm start", () => {
    const flags = serviceNodeFlags();
    for (const flag of ['--max-semi-space-size=16', '--no-allocation-site-pretenuring'])
      assert.ok(flags.includes(flag), `npm start's flags: ${flags.join(' ')}`);
    assert.deepEqual(imageCommand(), ['node', ...flags, 'dist/main.js']);
  });
});
