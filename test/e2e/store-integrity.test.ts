/**
 * A damaged embedded store, as the real service meets it: a file damaged while the service was
 * stopped is refused at start-up with one fatal line; a file damaged under the running service
 * turns it unready with the reason, refuses writes with 503, and says so in the log once, while
 * the inbox worker and the triage dispatcher keep polling without a line per tick.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertOneFailureLine, runUntilExit, startService, type RunningService } from '../helpers/service.js';
import { deliver, getAnonymous, metricsText, sample, waitFor } from '../helpers/api-client.js';
import { damageRootPagesUnder, dataPagesInTheMiddle, overwritePages } from '../helpers/sqlite-damage.js';

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';

const services: RunningService[] = [];
after(async () => {
  for (const service of services) await service.stop();
});

/** An alert with a 1 KB field, so a few hundred of them fill pages of real rows. */
function paddedAlert(): string {
  return JSON.stringify({
    event_type: 'security_alert',
    timestamp: '2026-01-15T10:00:00Z',
    source: 'edr',
    data: { alert_id: randomUUID(), severity: 'high', notes: 'x'.repeat(1000) },
  });
}

/** Stores `count` events, 20 at a time, each acknowledged 201. */
async function storeEvents(service: RunningService, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 20) {
    const replies = await Promise.all(Array.from({ length: Math.min(20, count - sent) }, () => deliver(service.url, 'edr', 'edr-secret', paddedAlert())));
    for (const reply of replies) assert.equal(reply.status, 201, JSON.stringify(reply.body));
  }
}

describe('a damaged embedded store', () => {
  it('damaged while stopped: the next start exits 1 with one fatal line naming the file, the damage and the recovery', async () => {
    const first = await startService({ config: CONFIG });
    services.push(first);
    await storeEvents(first, 300);
    await first.stop();

    // Like the observation: 8 KB of garbage over two pages of stored rows in the middle of the file.
    const file = join(first.dataDir, 'tw-webhooks.sqlite');
    const { pages, pageSize } = dataPagesInTheMiddle(file, 'incidents', 2);
    assert.equal(pages.length * pageSize, 8192);
    overwritePages(file, pageSize, pages);

    const exit = await runUntilExit({ TW_DATA_DIR: first.dataDir });
    const line = assertOneFailureLine(exit, new RegExp(`^cannot start: ${file} is damaged \\(`));
    assert.ok(
      pages.some((page) => String(line.msg).includes(`page ${page}`)),
      `the line names a damaged page (${pages.join(', ')}): ${line.msg}`,
    );
    assert.match(line.msg, /restore it from a backup/);
    assert.match(line.msg, new RegExp(`sqlite3 ${file} "\\.recover" \\| sqlite3 ${file}\\.recovered`));
    assert.match(line.msg, /docs\/operations\.md/);
    assert.ok(!exit.lines.some((entry) => entry.msg === 'listening'), 'never listened');
  });

  it('damaged while running: unready with the reason, 503 with Retry-After, one log line, quiet worker loops', async () => {
    const service = await startService({
      config: CONFIG,
      // Both loops look every 100 ms: a line per failed claim would show up at once.
      env: { TW_QUEUE_POLL_MS: '100', TW_TRIAGE_URL: 'http://127.0.0.1:9/triage', TW_TRIAGE_SECRET: 'triage-secret', TW_TRIAGE_POLL_MS: '100' },
    });
    services.push(service);
    await storeEvents(service, 300);
    assert.equal((await getAnonymous(service.url, '/readyz')).status, 200);

    // The root pages of the inbox (every claim of the inbox worker starts there) and of the incidents'
    // id index (every insert does), damaged so that the service's next statements read them: see
    // damageRootPagesUnder for why the pages are the roots and why a write follows.
    const linesBefore = service.logs.length;
    damageRootPagesUnder(join(service.dataDir, 'tw-webhooks.sqlite'), ['inbox', 'inbox_due', 'sqlite_autoindex_incidents_1']);

    const unready = await waitFor('/readyz to report the damage', async () => {
      const reply = await getAnonymous(service.url, '/readyz');
      return reply.status === 503 ? reply : undefined;
    });
    assert.deepEqual(unready.body, {
      status: 'not_ready',
      checks: { sources: true, store: false },
      store_error: 'tw-webhooks.sqlite: database disk image is malformed (SQLITE_CORRUPT)',
    });

    for (let i = 0; i < 5; i++) {
      const refused = await deliver(service.url, 'edr', 'edr-secret', paddedAlert());
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'unavailable');
      assert.equal(refused.headers.get('retry-after'), '5');
    }
    const metrics = await metricsText(service.url);
    assert.equal(sample(metrics, 'tw_store_healthy', { store: 'embedded' }), 0);
    assert.equal(sample(metrics, 'tw_store_errors_total', { store: 'embedded', kind: 'corrupt' }), 1);

    // Twenty claim ticks of each loop: each would have been an error line before.
    await sleep(2_000);
    const unhealthy = service.logs.filter((entry) => String(entry.msg).startsWith('store unhealthy: '));
    assert.equal(unhealthy.length, 1, JSON.stringify(unhealthy));
    assert.equal(unhealthy[0]!.level, 50);
    assert.match(
      String(unhealthy[0]!.msg),
      /^store unhealthy: tw-webhooks\.sqlite: database disk image is malformed \(SQLITE_CORRUPT\); see docs\/operations\.md/,
    );
    assert.deepEqual(
      service.logs.filter((entry) => entry.msg === 'claim failed' && Number(entry.level) >= 40),
      [],
    );
    // Every warning and error since the damage: that line, the five refused requests (one line each,
    // as every 5xx answer has), and at most once the API's sources (re-read every 2 s) not read.
    const said: Record<string, number> = {};
    for (const entry of service.logs.slice(linesBefore)) if (Number(entry.level) >= 40) said[String(entry.msg)] = (said[String(entry.msg)] ?? 0) + 1;
    const sourcesUnread = 'registered sources could not be read; keeping the last set';
    assert.deepEqual(said, {
      [String(unhealthy[0]!.msg)]: 1,
      'Incident store is unavailable, retry later': 5,
      ...(said[sourcesUnread] !== undefined && { [sourcesUnread]: 1 }),
    });
  });
});
