/**
 * The MongoDB reference: the writes our MongoDB store makes per acknowledged incident, done with
 * the mongodb driver directly at the bench's concurrency, no HTTP, verification or normalization.
 * Per incident: the dedupe lookup by `_id`, a number from the year's counter (one `$inc` in flight,
 * covering every incident waiting for a number, as the store allocates), the insert of the
 * incident (its triage outbox entry is a field of that document), and once a second one
 * `insertMany` of the delivery records. It copies the indexes and a stored incident and delivery
 * record from the database the service just wrote (BENCH_TEMPLATE_DB), so documents and index
 * maintenance are the service's own.
 *
 * Run by the bench as a child process, so its CPU is measured apart from the loader: it logs
 * `measuring` when the measured window starts and `result` when it ends, then waits for SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';

const uri = process.env.MONGODB_URI!;
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const templateDb = process.env.BENCH_TEMPLATE_DB!;

const client = new MongoClient(uri, { maxPoolSize: connections, writeConcern: { w: 'majority', journal: true } });
await client.connect();
const source = client.db(templateDb);
const db = client.db(`${templateDb}_driver`);

for (const name of ['incidents', 'deliveries', 'counters']) {
  for (const index of await source.collection(name).listIndexes().toArray()) {
    if (index.name === '_id_' || index.expireAfterSeconds !== undefined) continue;
    // One per call, as the store creates them (FerretDB 1.24 fails several at once on a restart).
    await db.collection(name).createIndex(index.key as Document, { name: index.name as string, unique: index.unique === true });
  }
}
const incidentTemplate = await source.collection('incidents').findOne({});
const deliveryTemplate = await source.collection('deliveries').findOne({});
if (!incidentTemplate || !deliveryTemplate) throw new Error(`no incident or delivery record in ${templateDb} to copy`);
const incidents = db.collection<{ _id: string } & Document>('incidents');
const counters = db.collection<{ _id: number; last: number }>('counters');
const deliveries = db.collection<Document>('deliveries');

/** One counter increment in flight, for all the incidents that asked meanwhile. */
let waiting: ((last: number) => void)[] = [];
let incrementing = false;
function nextNumber(): Promise<number> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    void increment();
  });
}
async function increment(): Promise<void> {
  if (incrementing || waiting.length === 0) return;
  incrementing = true;
  const batch = waiting;
  waiting = [];
  const counter = await counters.findOneAndUpdate({ _id: 2026 }, { $inc: { last: batch.length } }, { upsert: true, returnDocument: 'after' });
  batch.forEach((resolve, index) => resolve(counter!.last - batch.length + 1 + index));
  incrementing = false;
  void increment();
}

let buffered: Document[] = [];
const flushDeliveries = setInterval(() => {
  const batch = buffered;
  buffered = [];
  if (batch.length > 0) void deliveries.insertMany(batch, { ordered: false });
}, 1_000);

async function storeOne(): Promise<number> {
  const startedAt = performance.now();
  const id = randomUUID();
  const key = JSON.stringify(['edr', `ext:generic:${id}`]);
  if (await incidents.findOne({ _id: key })) throw new Error('a fresh key was found');
  const number = await nextNumber();
  await incidents.insertOne({
    ...incidentTemplate,
    _id: key,
    id,
    number: `INC-2026-${String(number).padStart(4, '0')}`,
    dedupeKey: key,
    receivedAt: new Date().toISOString(),
  });
  const { _id: _template, ...delivery } = deliveryTemplate!;
  buffered.push({ ...delivery, incidentId: id, at: new Date() });
  return performance.now() - startedAt;
}

async function run(untilMs: number, latencies?: number[]): Promise<void> {
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < untilMs) {
        const latency = await storeOne();
        latencies?.push(latency);
      }
    }),
  );
}

await run(performance.now() + warmupSeconds * 1000);
const latencies: number[] = [];
const log = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(fields)}\n`);
log({ msg: 'measuring' });
const startedAt = performance.now();
await run(startedAt + seconds * 1000, latencies);
const elapsed = (performance.now() - startedAt) / 1000;
latencies.sort((a, b) => a - b);
const at = (quantile: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))]! * 100) / 100;
log({ msg: 'result', incidents: latencies.length, seconds: elapsed, p50: at(0.5), p99: at(0.99) });
process.once('SIGTERM', () => {
  clearInterval(flushDeliveries);
  void client.close().then(() => process.exit(0));
});
