import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { KubeConfig, Watch } from '@kubernetes/client-node';

/** In a pod the service account, elsewhere KUBECONFIG (or ~/.kube/config). */
export function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

/** A Kubernetes API answer other than 2xx, with the `Status` object's reason when it sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    /** The API server's own words (its Status message), for answers that quote it. */
    readonly serverMessage: string,
    /** The call, for logs: `GET /api/v1/…`. */
    call?: string,
  ) {
    super(call === undefined ? serverMessage : `${call}: ${status} ${serverMessage}`);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof KubeApiError && error.status === 404;
export const isConflict = (error: unknown): boolean => error instanceof KubeApiError && error.status === 409;
export const isGone = (error: unknown): boolean => error instanceof KubeApiError && error.status === 410;

export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
}

export type WatchEventHandler = (type: string, object: Record<string, unknown>) => void;

/**
 * The wing's one client: JSON requests over the cluster config of @kubernetes/client-node (auth,
 * TLS, token files re-read per request), the library's `Watch` for watches.
 *
 * Judged against @kubernetes/client-node 2.x, which we use for KubeConfig and Watch:
 * - Its generated clients (CoordinationV1Api, CustomObjectsApi, KubernetesObjectApi) still write
 *   MicroTime (Lease renewTime/acquireTime, Event eventTime) as milliseconds padded with zeros
 *   (`V1MicroTime.toISOString()` appends `000`), and parse it back into a Date, dropping the
 *   microseconds the Lease's holder compares; and a per-request deadline is only a middleware that
 *   sets an AbortSignal on every call (no timeout option). So requests stay here: one method,
 *   every call time-boxed, MicroTime as lease.ts writes it, Status answers as KubeApiError.
 * - Its `Watch` is now undici-based and drops a watch silent for 30 s itself (a TimeoutError); that
 *   is a quiet watch ending, not a failure, so it is reported as a normal close (see watch()).
 * - Its `makeInformer`/`ListWatch` stops on the first error other than 410 or a timeout (the caller
 *   must restart it), has no resync, no synced signal, no paging and no health hooks: the
 *   supervision in informer.ts is what the provider and the controller rely on, so it stays.
 */
export class KubeClient {
  private agent: Agent | undefined;
  private readonly server: string;
  private readonly watcher: Watch;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly requestTimeoutMs = 30_000,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server;
    this.watcher = new Watch(kubeConfig);
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const options: RequestOptions = { headers: {} };
    // Applied per request: token files (in-cluster service accounts) are rotated by the kubelet.
    await this.kubeConfig.applyToHTTPSOptions(options);
    const url = new URL(this.server + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { ...(options.headers as Record<string, string>), accept: 'application/json' };
    if (payload) {
      headers['content-type'] = contentType;
      headers['content-length'] = payload.length;
    }
    const secure = url.protocol === 'https:';
    const requestOptions: RequestOptions = {
      method,
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers,
      timeout: this.requestTimeoutMs,
      ...(secure ? { agent: this.keepAliveAgent(options), servername: options.servername } : {}),
    };
    return new Promise<T>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(requestOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const statusObject = (parsed ?? {}) as { reason?: string; message?: string };
          reject(new KubeApiError(status, statusObject.reason ?? 'Unknown', statusObject.message ?? text.slice(0, 200), `${method} ${path}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${this.requestTimeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Every page of a collection, and the resourceVersion a watch continues from. */
  async list<T>(path: string, labelSelector: string | undefined, pageSize: number): Promise<ObjectList<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const query = new URLSearchParams({ limit: String(pageSize) });
      if (labelSelector) query.set('labelSelector', labelSelector);
      if (continueToken) query.set('continue', continueToken);
      const page = await this.request<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>('GET', `${path}?${query.toString()}`);
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion;
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  /** Starts a watch; `done` is called once, with an error or null when the server closed it. */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: WatchEventHandler,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    return this.watcher.watch(path, query, onEvent, (error: unknown) => {
      // The library ends a watch that sent nothing for 30 s; the informer re-watches from where it was.
      if ((error as Error | null)?.name === 'TimeoutError') return done(null);
      const status = (error as { statusCode?: number } | null)?.statusCode;
      done(status ? new KubeApiError(status, 'WatchFailed', `watch ${path}: ${status}`) : error);
    });
  }

  private keepAliveAgent(options: RequestOptions): Agent {
    this.agent ??= new Agent({
      keepAlive: true,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
    });
    return this.agent;
  }
}
