/**
 * Failures cost little and are limited: over real HTTP against the real service process, a request
 * for a known source is limited before its body is read or a MAC computed — per source and client
 * address after failed verifications, per source before the read — and a flood of strangers never
 * starves a sender the source already knows. The client address comes from X-Forwarded-For, the
 * test being the trusted proxy. The service's CPU time is read from /proc.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { startService, type RunningService } from '../helpers/service.js';
import { genericAlert, metricsText, sample } from '../helpers/api-client.js';
import { signedHeaders } from '../helpers/sign.js';

const MIB = 1024 * 1024;
const CONFIG = `
sources:
  big:
    secret: "big-secret-0123456789"
    max_body_bytes: ${10 * MIB}
  edr:
    secret: "edr-secret-0123456789"
  limited:
    secret: "limited-secret-0123456789"
    rate_limit:
      requests_per_second: 1
      burst: 2
`;
const TRUSTED = { TW_TRUSTED_PROXIES: '127.0.0.1/32, ::1/128' };
/** The default bursts, refilled slowly enough (one a minute) that a loaded machine's pace does not change the counts. */
const SLOW_REFILL = { TW_ADDRESS_FAILURES_PER_MINUTE: '1', TW_SOURCE_FAILURES_PER_MINUTE: '1' };

/** The service's user + system CPU time so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A POST as if from `client`; resolves with the status, or 0 when the connection was closed under the sender. */
function send(service: RunningService, source: string, client: string, body: string | Buffer, headers: Record<string, string>, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      `${service.url}/api/webhooks/${source}`,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'x-forwarded-for': client } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

const badlySigned = (body: string | Buffer) => ({ ...signedHeaders('not-the-secret-0123456789', body), 'content-type': 'application/json' });
const count = (statuses: number[], status: number) => statuses.filter((each) => each === status).length;

describe('limits before the body is read', () => {
  let service: RunningService;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  before(async () => {
    service = await startService({ config: CONFIG, env: { ...TRUSTED, ...SLOW_REFILL } });
  });
  after(async () => {
    agent.destroy();
    await service?.stop();
  });

  it('after 10 failed verifications from one address, its 1 MiB bodies are refused unread and un-MACed; without the limit each costs both', async (t) => {
    const body = Buffer.alloc(MIB, 'z');
    const flood = async (target: RunningService, client: string) => {
      const cpuBefore = cpuMs(target.process.pid!);
      const started = performance.now();
      const statuses: number[] = [];
      for (let index = 0; index < 200; index++) statuses.push(await send(target, 'big', client, body, badlySigned(body), agent));
      return { statuses, cpuMs: cpuMs(target.process.pid!) - cpuBefore, wallMs: Math.round(performance.now() - started) };
    };
    const limited = await flood(service, '203.0.113.7');
    assert.equal(count(limited.statuses, 401), 10, 'the first 10 are read and verified');
    assert.equal(count(limited.statuses, 429) + count(limited.statuses, 0), 190, 'the rest are refused before the read (429, or closed on the unread body)');
    const metrics = await metricsText(service.url);
    assert.equal(sample(metrics, 'tw_load_shed_total', { reason: 'address_failures' }), 190);
    assert.equal(sample(metrics, 'webhook_errors_total', { source: 'big', code: 'invalid_signature' }), 10);

    const unlimited = await startService({ config: CONFIG, env: { ...TRUSTED, TW_ADDRESS_FAILURES_BURST: '1000000', TW_SOURCE_FAILURES_BURST: '1000000' } });
    let open;
    try {
      open = await flood(unlimited, '203.0.113.7');
    } finally {
      await unlimited.stop();
    }
    assert.equal(count(open.statuses, 401), 200);
    t.diagnostic(
      `200 badly signed 1 MiB bodies from one address: limited ${limited.cpuMs} ms of service CPU (${limited.wallMs} ms wall), ` +
        `unlimited ${open.cpuMs} ms of CPU (${open.wallMs} ms wall)`,
    );
    assert.ok(limited.cpuMs < open.cpuMs, 'the refusals cost less than reading and verifying');
  });

  it('a flood of strangers stops strangers at the source, never a sender it knows', async () => {
    const good = genericAlert('known-1');
    assert.equal(await send(service, 'edr', '192.0.2.10', good, signedHeaders('edr-secret-0123456789', good), agent), 201, 'the sender is known from now on');
    // 150 addresses, one failure each: no address reaches its own limit, the source (burst 100) does.
    const flood: number[] = [];
    for (let index = 0; index < 150; index++) flood.push(await send(service, 'edr', `198.51.100.${index}`, '{}', badlySigned('{}'), agent));
    assert.equal(count(flood, 401), 100);
    assert.equal(count(flood, 429), 50);
    const later = genericAlert('known-2');
    assert.equal(await send(service, 'edr', '192.0.2.10', later, signedHeaders('edr-secret-0123456789', later), agent), 201, 'the known sender is not starved');
    const stranger = genericAlert('stranger-1');
    const refused = await send(service, 'edr', '198.51.100.250', stranger, signedHeaders('edr-secret-0123456789', stranger), agent);
    assert.equal(refused, 429, 'a new sender during the flood waits (the price of not reading strangers)');
    assert.equal(sample(await metricsText(service.url), 'tw_load_shed_total', { reason: 'source_failures' }), 51);
  });

  it("a rate-limited source reads at most its pre-read bucket (4 × its burst) of strangers' bodies, and its known sender still passes", async () => {
    const good = genericAlert('limited-known');
    assert.equal(await send(service, 'limited', '192.0.2.20', good, signedHeaders('limited-secret-0123456789', good), agent), 201);
    const strangers: number[] = [];
    for (let index = 0; index < 12; index++) strangers.push(await send(service, 'limited', `198.51.100.${index}`, '{}', badlySigned('{}'), agent));
    // One pre-read token went to the known sender's first request; the bucket refills at 4/s meanwhile.
    assert.ok(count(strangers, 401) >= 7 && count(strangers, 401) <= 9, `${count(strangers, 401)} of 12 read`);
    assert.equal(count(strangers, 401) + count(strangers, 429), 12);
    const again = genericAlert('limited-known-2');
    assert.equal(await send(service, 'limited', '192.0.2.20', again, signedHeaders('limited-secret-0123456789', again), agent), 201);
  });
});
