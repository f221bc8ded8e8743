/**
 * Rollouts. With MongoDB and two replicas behind a readiness-gated round-robin (test/helpers/
 * balancer.ts, like kube-proxy over Endpoints), a rolling update that replaces both replicas while
 * senders send continuously over kept-alive connections costs nothing: no connection refused or
 * reset, no 5xx, every acknowledged incident readable afterwards. The single embedded replica of
 * the default chart (`Recreate`) cannot do that: the test measures its gap, from SIGTERM to the new
 * process's first 2xx, for a sender that never retries (docs/deployment.md, "Rollouts").
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startService, type RunningService } from '../helpers/service.js';
import { freshMongoUri } from '../helpers/mongo-database.js';
import { RoundRobinBalancer } from '../helpers/balancer.js';
import { deliverKeptAlive, keptAliveAgent, type KeptAliveReply } from '../helpers/kept-alive.js';
import { allIncidents, deliver, genericAlert, waitFor } from '../helpers/api-client.js';
import { freePort } from '../infra/process.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n';
const SENDERS = 6;
/** Longer than the balancer's 1 s readiness poll plus a probe, as the chart's 15 s is for its 5 s × 2 probe. */
const DRAIN_DELAY_SECONDS = 3;

const services: RunningService[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const service of services) await service.kill9();
});

async function start(env: Record<string, string>, dataDir?: string): Promise<RunningService> {
  const service = await startService({ config: CONFIG, env, dataDir });
  services.push(service);
  return service;
}

interface Outcome {
  alertId: string;
  sentAtMs: number;
  answeredAtMs: number;
  reply?: KeptAliveReply;
  error?: string;
}

/** `count` senders, one delivery after another (at most one per `paceMs` each) until stop(). */
function sendContinuously(url: string, count: number, paceMs: number, deliverOne: (url: string, alertId: string, sender: number) => Promise<KeptAliveReply>) {
  const outcomes: Outcome[] = [];
  let sending = true;
  const senders = Array.from({ length: count }, async (_, sender) => {
    while (sending) {
      const alertId = randomUUID();
      const sentAtMs = Date.now();
      try {
        outcomes.push({ alertId, sentAtMs, answeredAtMs: Date.now(), reply: await deliverOne(url, alertId, sender) });
      } catch (error) {
        const cause = (error as { cause?: NodeJS.ErrnoException }).cause ?? (error as NodeJS.ErrnoException);
        outcomes.push({ alertId, sentAtMs, answeredAtMs: Date.now(), error: cause.code ?? String(cause) });
      }
      if (paceMs > 0) await sleep(Math.max(0, sentAtMs + paceMs - Date.now()));
    }
  });
  return {
    outcomes,
    acknowledged: () => outcomes.filter((outcome) => outcome.reply?.status === 201),
    async stop() {
      sending = false;
      await Promise.all(senders);
    },
  };
}

describe('a rolling update of two replicas on MongoDB', () => {
  it('replaces both while senders send continuously: no refused or reset connection, no 5xx, nothing acknowledged lost', async (t) => {
    const env = { MONGODB_URI: freshMongoUri('tw_rollout'), TW_DRAIN_DELAY_SECONDS: String(DRAIN_DELAY_SECONDS) };
    const balancer = await RoundRobinBalancer.start();
    cleanups.push(() => balancer.stop());
    const replicas = await Promise.all([start(env), start(env)]);
    for (const replica of replicas) balancer.add(replica.url);
    await waitFor(() => replicas.every((replica) => balancer.isReady(replica.url)), { message: 'both replicas in the endpoints' });

    const agents = Array.from({ length: SENDERS }, () => keptAliveAgent());
    cleanups.push(async () => agents.forEach((agent) => agent.destroy()));
    const traffic = sendContinuously(balancer.url, SENDERS, 0, (url, alertId, sender) => deliverKeptAlive(url, agents[sender]!, 'edr', 'edr-secret', alertId));
    const acknowledgedAtLeast = (count: number) =>
      waitFor(() => traffic.acknowledged().length >= count, { timeoutMs: 30_000, message: `${count} acknowledged deliveries` });
    await acknowledgedAtLeast(50);

    // As a Deployment with maxSurge 1, maxUnavailable 0 does it: the new pod ready first, then the old one stopped.
    const drains: { ms: number; closing: number }[] = [];
    for (const [index, old] of replicas.entries()) {
      const replacement = await start(env);
      balancer.add(replacement.url);
      await waitFor(() => balancer.isReady(replacement.url), { message: 'the new replica in the endpoints' });
      const answeredBefore = traffic.outcomes.length;
      const signalled = Date.now();
      old.process.kill('SIGTERM');
      assert.deepEqual(await old.exited, { code: 0, signal: null }, `replica ${index} exits 0`);
      balancer.remove(old.url);
      // Kept-alive connections to the old replica were told to close during its drain, and reconnected.
      const closing = traffic.outcomes.slice(answeredBefore).filter((outcome) => outcome.reply?.closes).length;
      drains.push({ ms: Date.now() - signalled, closing });
      await acknowledgedAtLeast(traffic.acknowledged().length + 20);
    }
    await traffic.stop();

    const failed = traffic.outcomes.filter((outcome) => outcome.reply?.status !== 201);
    assert.deepEqual(
      failed.map(({ reply, error }) => error ?? `${reply!.status} ${JSON.stringify(reply!.body)}`),
      [],
      'every delivery answered 201',
    );
    assert.equal(balancer.resets, 0, 'no connection reset for want of a ready backend');
    for (const [index, drain] of drains.entries()) {
      assert.ok(drain.ms >= DRAIN_DELAY_SECONDS * 1000, `replica ${index} served through its drain delay (${drain.ms} ms)`);
      assert.ok(drain.closing > 0, `replica ${index} closed kept-alive connections while draining`);
    }

    const stored = new Map((await allIncidents(services.at(-1)!.url)).map((incident) => [incident.incident_id, incident.incident_number]));
    const acknowledged = traffic.acknowledged();
    for (const { reply } of acknowledged) assert.equal(stored.get(reply!.body.incident_id), reply!.body.incident_number, 'acknowledged and readable');
    assert.equal(new Set(stored.values()).size, stored.size, 'numbers unique');
    const summary = `${traffic.outcomes.length} deliveries over ${SENDERS} kept-alive senders, all 201; drains ${drains.map((drain) => `${drain.ms} ms (${drain.closing} closing answers)`).join(', ')}`;
    t.diagnostic(summary);
    console.log(summary);
  });
});

describe('a Recreate upgrade of the single embedded replica', () => {
  it('refuses connections only between SIGTERM and the new process listening, and loses nothing it acknowledged', async (t) => {
    const port = String(await freePort());
    const old = await start({ PORT: port });
    // Senders that never retry (Splunk's webhook alert action): one POST per alert, a refused one is
    // a lost alert; 50 alerts a second each, so the gap is measured to 20 ms.
    const traffic = sendContinuously(old.url, 2, 20, async (url, alertId) => {
      const reply = await deliver(url, 'edr', 'edr-secret', genericAlert(alertId));
      return { status: reply.status, body: reply.body, closes: reply.headers.get('connection') === 'close', reused: false };
    });
    await waitFor(() => traffic.acknowledged().length >= 20, { message: 'traffic to be stored' });

    const signalled = Date.now();
    old.process.kill('SIGTERM');
    assert.deepEqual(await old.exited, { code: 0, signal: null });
    const exited = Date.now();
    const replacement = await start({ PORT: port }, old.dataDir);
    // pino's time of the line, not when this process read it.
    const listening = Date.parse(String(replacement.logs.find((entry) => entry.msg === 'listening')!.time));
    const firstAfter = await waitFor(() => traffic.acknowledged().find((outcome) => outcome.sentAtMs >= exited), {
      message: "the new process's first 2xx",
    });
    await traffic.stop();

    const gapMs = firstAfter.answeredAtMs - signalled;
    const lost = traffic.outcomes.filter((outcome) => outcome.reply?.status !== 201);
    for (const outcome of lost) {
      const seen = `${JSON.stringify({ ...outcome, sentAtMs: outcome.sentAtMs - signalled, answeredAtMs: outcome.answeredAtMs - signalled })}, first 2xx after ${gapMs} ms`;
      assert.ok(outcome.sentAtMs >= signalled - 50 && outcome.sentAtMs <= firstAfter.sentAtMs, `refused only within the gap: ${seen}`);
      assert.ok(outcome.error !== undefined, `refused before it was read, never answered with an error: ${JSON.stringify(outcome.reply)}`);
    }
    const stored = new Map((await allIncidents(replacement.url)).map((incident) => [incident.incident_id, incident.incident_number]));
    for (const { reply } of traffic.acknowledged()) assert.equal(stored.get(reply!.body.incident_id), reply!.body.incident_number);
    // The bound is loose for a loaded 2-core machine; the diagnostic line is the measurement.
    assert.ok(gapMs < 10_000, `gap ${gapMs} ms`);
    const summary = `gap ${gapMs} ms from SIGTERM to the first 2xx of the new process: shutdown ${exited - signalled} ms, start to listening ${listening - exited} ms, to the first 2xx ${firstAfter.answeredAtMs - listening} ms; ${lost.length} of ${traffic.outcomes.length} deliveries refused`;
    t.diagnostic(summary);
    console.log(summary);
  });
});
