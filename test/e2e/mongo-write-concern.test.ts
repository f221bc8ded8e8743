/**
 * Every 2xx on MongoDB means the server acknowledged a majority, journaled write of it: read off
 * the wire (test/helpers/mongo-wire-proxy.ts) between the service and the server, every write the
 * service sends asks for `{w: 'majority', j: true}`, and each 201 (202) comes after the server's
 * reply to the insert of that incident (inbox entry). A store that relaxed the write concern, or
 * answered before the reply, passes every HTTP-level test: this one fails.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '../helpers/service.js';
import { mongoFromEnv } from '../helpers/servers.js';
import { MongoWireProxy, type WireCommand } from '../helpers/mongo-wire-proxy.js';
import { deliver, genericAlert, getJson, waitFor, type Reply } from '../helpers/api-client.js';
import { needs } from '../helpers/servers.js';

await needs('mongo');

const CONFIG = 'sources:\n  edr:\n    secret: "edr-secret"\n  queued:\n    secret: "queued-secret"\n    processing: async\n';
const WRITES = new Set(['insert', 'update', 'delete', 'findAndModify']);

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The insert into `collection` of the document whose `field` is `value`. */
function insertOf(commands: readonly WireCommand[], collection: string, field: string, value: string): WireCommand | undefined {
  return commands.find((command) => command.name === 'insert' && command.collection === collection && command.documents.some((doc) => doc[field] === value));
}

describe('the write concern on the wire (MongoDB store)', () => {
  it("sends every write with {w: 'majority', j: true} and answers 2xx only after the server acknowledged its insert", async (t) => {
    const { uri, database } = mongoFromEnv('tw_wire');
    const proxy = await MongoWireProxy.start(uri);
    cleanups.push(() => proxy.stop());
    const service: RunningService = await startService({ config: CONFIG, env: { MONGODB_URI: proxy.uri(database) } });
    cleanups.push(() => service.stop());

    const answered: { reply: Reply; atMs: number }[] = [];
    const send = async (source: string, secret: string) => {
      const reply = await deliver(service.url, source, secret, genericAlert(randomUUID()));
      answered.push({ reply, atMs: Date.now() });
    };
    for (let i = 0; i < 5; i++) await send('edr', 'edr-secret');
    await Promise.all(Array.from({ length: 10 }, () => send('edr', 'edr-secret')));
    await Promise.all(Array.from({ length: 5 }, () => send('queued', 'queued-secret')));
    // The inbox worker's writes (claim, incident, done) come after the 202s: they are writes too.
    for (const { reply } of answered.filter(({ reply }) => reply.status === 202)) {
      await waitFor(async () => (await getJson(service.url, `/api/queue/${reply.body.queue_id}`)).body?.status === 'done', {
        message: `${reply.body.queue_id} processed`,
      });
    }
    await service.stop();

    assert.equal(proxy.unreadable, 0, 'no compressed messages the proxy could not read');
    const writes = proxy.commands.filter((command) => WRITES.has(command.name));
    assert.ok(writes.length >= answered.length, `the proxy saw the writes (${writes.length})`);
    const relaxed = writes.filter((command) => command.writeConcern?.w !== 'majority' || command.writeConcern?.j !== true);
    assert.deepEqual(
      relaxed.map((command) => `${command.name} ${String(command.collection)}: ${JSON.stringify(command.writeConcern)}`),
      [],
      "every write asks for {w: 'majority', j: true}",
    );

    for (const { reply, atMs } of answered) {
      const [collection, field, value] =
        reply.status === 201 ? ['incidents', 'id', reply.body.incident_id] : reply.status === 202 ? ['inbox', '_id', reply.body.queue_id] : [];
      assert.ok(collection, `acknowledged: ${reply.status} ${JSON.stringify(reply.body)}`);
      const insert = insertOf(proxy.commands, collection, field!, value);
      assert.ok(insert, `the ${collection} insert of ${value} is on the wire`);
      assert.equal(insert.reply?.ok, 1, `the server acknowledged it: ${JSON.stringify(insert.reply)}`);
      assert.equal(insert.reply?.writeErrors, undefined);
      assert.equal(insert.reply?.writeConcernError, undefined);
      assert.ok(insert.repliedAtMs !== undefined && insert.repliedAtMs <= atMs, `its reply came back before the ${reply.status}`);
    }
    const statuses = answered.map(({ reply }) => reply.status);
    t.diagnostic(
      `${writes.length} writes (${[...new Set(writes.map((command) => `${command.name} ${String(command.collection)}`))].join(', ')}), all w: majority, j: true; ${statuses.filter((s) => s === 201).length} × 201 and ${statuses.filter((s) => s === 202).length} × 202 each after its insert's reply`,
    );
  });
});
