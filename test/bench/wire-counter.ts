/**
 * A TCP proxy between a MongoDB client and its server that counts the client's messages by command
 * and collection (the first key of an OP_MSG body and its value: `find incidents`, `insert
 * deliveries`, `hello`, …). Counting on the wire needs nothing in the client: it sees every round
 * trip the service makes, the driver's monitoring heartbeats included, and forwards the bytes
 * untouched.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

const OP_MSG = 2013;
const OP_QUERY = 2004;
/** Bytes of a message's start read to name it: header (16), flags (4), section kind (1), BSON length (4), type (1), the name, its collection. */
const HEAD_BYTES = 128;
const BSON_STRING = 2;

export interface WireCounter {
  port: number;
  /** Client messages by command name since the last reset. */
  counts(): Record<string, number>;
  reset(): void;
  close(): Promise<void>;
}

/** Names the messages in one direction of a connection, however the stream is cut into chunks. */
class MessageCounter {
  private head = Buffer.alloc(0);
  private skip = 0;

  constructor(private readonly count: (command: string) => void) {}

  feed(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.skip > 0) {
        const skipped = Math.min(this.skip, chunk.length - offset);
        this.skip -= skipped;
        offset += skipped;
        continue;
      }
      const taken = Math.min(HEAD_BYTES - this.head.length, chunk.length - offset);
      this.head = Buffer.concat([this.head, chunk.subarray(offset, offset + taken)]);
      offset += taken;
      if (this.head.length < 4) continue;
      const length = this.head.readInt32LE(0);
      if (this.head.length < Math.min(HEAD_BYTES, length)) continue;
      this.count(commandName(this.head.subarray(0, Math.min(length, this.head.length))));
      // A message shorter than the head: the bytes after it (all from this chunk) start the next one.
      if (this.head.length > length) offset -= this.head.length - length;
      this.skip = Math.max(0, length - this.head.length);
      this.head = Buffer.alloc(0);
    }
  }
}

/** `insert incidents`, `find inbox`, `hello`: the command and, when its value is one, the collection it names. */
function commandName(message: Buffer): string {
  const opCode = message.readInt32LE(12);
  // The driver opens each connection with a legacy OP_QUERY `hello`; all else is OP_MSG.
  if (opCode !== OP_MSG) return opCode === OP_QUERY ? 'OP_QUERY hello' : `opCode ${opCode}`;
  const nameStart = 26;
  const nameEnd = message.indexOf(0, nameStart);
  if (nameEnd <= nameStart) return 'OP_MSG';
  const name = message.toString('latin1', nameStart, nameEnd);
  if (message[25] !== BSON_STRING || nameEnd + 5 > message.length) return name;
  const valueEnd = Math.min(message.length, nameEnd + 5 + message.readInt32LE(nameEnd + 1) - 1);
  return `${name} ${message.toString('utf8', nameEnd + 5, valueEnd)}`;
}

export async function startWireCounter(upstreamHost: string, upstreamPort: number): Promise<WireCounter> {
  let counts: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(upstreamPort, upstreamHost);
    sockets.add(client).add(upstream);
    const counter = new MessageCounter((command) => (counts[command] = (counts[command] ?? 0) + 1));
    client.on('data', (chunk) => counter.feed(chunk));
    client.pipe(upstream).pipe(client);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    counts: () => ({ ...counts }),
    reset: () => (counts = {}),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}
