/**
 * A TCP proxy between the service and the MongoDB-wire server that reads the commands on the wire
 * (OP_MSG, the only opcode drivers send commands in since MongoDB 3.6) and when each reply went
 * back, so a test can check what the service asked the server for before it acknowledged a
 * delivery: the write concern of every write, seen where the server sees it, without a hook in
 * src/. The bytes pass through unchanged.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BSON, type Document } from 'mongodb';

const OP_MSG = 2013;
const OP_COMPRESSED = 2012;

export interface WireCommand {
  /** The command's name: its body's first key (`insert`, `findAndModify`, `hello`, …). */
  name: string;
  collection: unknown;
  writeConcern: Document | undefined;
  /** The documents a write carries: the body's own array or a kind-1 section's sequence. */
  documents: Document[];
  sentAtMs: number;
  /** When the server's reply was passed back to the service; undefined if none came. */
  repliedAtMs?: number;
  reply?: Document;
}

export class MongoWireProxy {
  readonly commands: WireCommand[] = [];
  /** Messages the proxy could not read (compressed ones): a test fails on any. */
  unreadable = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Proxies to the server of `uri` (`mongodb://host:port/…`). */
  static async start(uri: string): Promise<MongoWireProxy> {
    const target = new URL(uri);
    const server = createServer();
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const proxy = new MongoWireProxy(server, (server.address() as AddressInfo).port);
    server.on('connection', (client) => proxy.relay(client, target.hostname, Number(target.port)));
    return proxy;
  }

  /** A URI for `database` through the proxy; a direct connection, so the driver never goes around it to hosts the server names. */
  uri(database: string): string {
    return `mongodb://127.0.0.1:${this.port}/${database}?directConnection=true`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((closed) => this.server.close(() => closed()));
  }

  private relay(client: Socket, host: string, port: number): void {
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    const pending = new Map<number, WireCommand>();
    client.on(
      'data',
      messages((opCode, requestId, _responseTo, payload) => {
        const command = opCode === OP_MSG ? readCommand(payload) : undefined;
        if (opCode === OP_COMPRESSED) this.unreadable += 1;
        if (!command) return;
        this.commands.push(command);
        pending.set(requestId, command);
      }),
    );
    upstream.on(
      'data',
      messages((opCode, _requestId, responseTo, payload) => {
        const command = pending.get(responseTo);
        if (!command || opCode !== OP_MSG) return;
        pending.delete(responseTo);
        command.reply = readCommand(payload)?.body;
        // Written to the service right after this parser returns: the reply's time on the way back.
        command.repliedAtMs = Date.now();
      }),
    );
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.once('error', () => upstream.destroy());
    upstream.once('error', () => client.destroy());
  }
}

/** A stream's chunks as whole wire messages: 16-byte header (length, requestID, responseTo, opCode), then the payload. */
function messages(onMessage: (opCode: number, requestId: number, responseTo: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 16 && buffered.length >= buffered.readInt32LE(0)) {
      const length = buffered.readInt32LE(0);
      onMessage(buffered.readInt32LE(12), buffered.readInt32LE(4), buffered.readInt32LE(8), buffered.subarray(16, length));
      buffered = buffered.subarray(length);
    }
  };
}

/** OP_MSG: flag bits, then sections: kind 0 is the body document, kind 1 a named sequence of documents. */
function readCommand(payload: Buffer): (WireCommand & { body: Document }) | undefined {
  let offset = 4;
  let body: Document | undefined;
  const sequences: Document[] = [];
  const checksummed = (payload.readUInt32LE(0) & 1) === 1;
  const end = payload.length - (checksummed ? 4 : 0);
  while (offset < end) {
    const kind = payload[offset]!;
    offset += 1;
    if (kind === 0) {
      const size = payload.readInt32LE(offset);
      body = BSON.deserialize(payload.subarray(offset, offset + size));
      offset += size;
    } else {
      const size = payload.readInt32LE(offset);
      const sectionEnd = offset + size;
      offset = payload.indexOf(0, offset + 4) + 1; // past the identifier (a cstring)
      while (offset < sectionEnd) {
        const documentSize = payload.readInt32LE(offset);
        sequences.push(BSON.deserialize(payload.subarray(offset, offset + documentSize)));
        offset += documentSize;
      }
    }
  }
  if (!body) return undefined;
  const name = Object.keys(body)[0] ?? '';
  const inline = [body.documents, body.updates, body.deletes].find(Array.isArray) as Document[] | undefined;
  return {
    name,
    collection: body[name],
    writeConcern: body.writeConcern as Document | undefined,
    documents: [...(inline ?? []), ...sequences],
    sentAtMs: Date.now(),
    body,
  };
}
