import { CliError, EXIT, usageError } from './exit-codes.js';

export interface ApiClientOptions {
  /** Where the API is, from --api-url or TW_API_URL: with or without a scheme, with or without a path prefix. */
  baseUrl: string;
  token: string | undefined;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The API's base URL as given by a user: `localhost:8080` means `http://localhost:8080`, and a
 * path (`https://gw.example.com/tw`) is a prefix every API path goes under, as behind an ingress
 * that routes by path. Always ends in `/`, so `new URL('api/…', base)` keeps the prefix.
 */
function apiBaseUrl(raw: string): URL {
  const text = raw.trim();
  const withScheme = SCHEME.test(text) ? text : `http://${text}`;
  if (!URL.canParse(withScheme)) throw usageError(`the API URL '${text}' is not a URL: give host:port or http(s)://host[:port][/path]`);
  const url = new URL(withScheme);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`the API URL '${text}' must be http or https`);
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** The tw-webhooks HTTP API as the CLI calls it: JSON in and out, errors as CliErrors with exit codes. */
export class ApiClient {
  private readonly base: URL;

  constructor(private readonly options: ApiClientOptions) {
    this.base = apiBaseUrl(options.baseUrl);
  }

  /** Where a path of the API is, under the base URL's path prefix. */
  url(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.base);
  }

  /** `accept` asks for another representation of the resource (e.g. OCSF); the answer is JSON all the same. */
  get<T>(path: string, accept = 'application/json'): Promise<T> {
    return this.request<T>('GET', path, undefined, accept);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  /** For streaming answers (`logs --follow`): the response once its status is a success. */
  async open(path: string, accept: string): Promise<Response> {
    const response = await this.fetch('GET', path, undefined, accept);
    if (!response.ok) await this.fail(response, path);
    return response;
  }

  private async request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
    const response = await this.fetch(method, path, body, accept);
    if (!response.ok) await this.fail(response, path);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private async fetch(method: string, path: string, body: unknown, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = this.url(path);
    try {
      return await fetch(url, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the tw-webhooks API at ${this.base.href.replace(/\/$/, '')} (${cause?.code ?? cause?.message ?? String(error)}); is it running? Set TW_API_URL or --api-url`,
        EXIT.unreachable,
      );
    }
  }

  private async fail(response: Response, path: string): Promise<never> {
    const text = await response.text();
    let code = `http_${response.status}`;
    let message = text.slice(0, 500) || response.statusText;
    try {
      const envelope = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (envelope.error?.code) code = envelope.error.code;
      if (envelope.error?.message) message = envelope.error.message;
    } catch {
      // not our envelope (a proxy's page): keep the text
    }
    if (response.status === 401) {
      const hint = this.options.token ? 'the API key was not accepted' : 'no API key: set TW_API_TOKEN';
      throw new CliError(`${hint}: ${message} (${code})`, EXIT.auth);
    }
    if (response.status === 404 && code === `http_404`) {
      throw new CliError(
        `${this.url(path).href} answered 404 without the API's error envelope: is ${this.base.href} the tw-webhooks API? (${code})`,
        EXIT.notFound,
      );
    }
    const exitCode = response.status === 403 ? EXIT.auth : response.status === 404 ? EXIT.notFound : EXIT.error;
    throw new CliError(`${message} (${code})`, exitCode);
  }
}
