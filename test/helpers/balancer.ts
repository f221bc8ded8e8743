/**
 * A round-robin TCP balancer on loopback that behaves like kube-proxy in front of readiness-gated
 * Endpoints: each new connection goes to the next backend whose /readyz answered 200 at the last
 * poll (every second, as often as a tight readiness probe), and stays with that backend for its
 * life; a backend that fails /readyz gets no new connections, and connections already open are left
 * alone, as kube-proxy leaves established flows alone. A connection it cannot place (no backend
 * ready, or the backend refuses) is reset, which is what a client sees when kube-proxy sends it to a
 * pod that no longer listens: the test counts those.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

const POLL_MS = 1_000;
const PROBE_TIMEOUT_MS = 800;

interface Backend {
  url: string;
  port: number;
  ready: boolean;
}

export class RoundRobinBalancer {
  /** Client connections reset because no backend was ready or the chosen one refused. */
  resets = 0;
  private readonly backends: Backend[] = [];
  private next = 0;
  private readonly sockets = new Set<Socket>();
  private poller: NodeJS.Timeout | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<RoundRobinBalancer> {
    const server = createServer();
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const balancer = new RoundRobinBalancer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', (client) => balancer.place(client));
    balancer.poller = setInterval(() => void balancer.poll(), POLL_MS);
    return balancer;
  }

  /** A new endpoint: it gets connections once its /readyz has answered 200. */
  add(url: string): void {
    this.backends.push({ url, port: Number(new URL(url).port), ready: false });
  }

  /** The endpoint is gone (its pod deleted). */
  remove(url: string): void {
    const index = this.backends.findIndex((backend) => backend.url === url);
    if (index >= 0) this.backends.splice(index, 1);
  }

  /** Whether the backend at `url` was ready at the last poll. */
  isReady(url: string): boolean {
    return this.backends.some((backend) => backend.url === url && backend.ready);
  }

  async stop(): Promise<void> {
    clearInterval(this.poller);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((closed) => this.server.close(() => closed()));
  }

  private async poll(): Promise<void> {
    await Promise.all(
      this.backends.map(async (backend) => {
        try {
          const response = await fetch(`${backend.url}/readyz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
          await response.arrayBuffer();
          backend.ready = response.status === 200;
        } catch {
          backend.ready = false;
        }
      }),
    );
  }

  private place(client: Socket): void {
    this.track(client);
    const ready = this.backends.filter((backend) => backend.ready);
    if (ready.length === 0) return this.reset(client);
    const backend = ready[this.next++ % ready.length]!;
    const upstream = connect(backend.port, '127.0.0.1');
    this.track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.once('error', () => (connected ? client.destroy() : this.reset(client)));
    client.once('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.end());
  }

  private reset(client: Socket): void {
    this.resets += 1;
    client.resetAndDestroy();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
