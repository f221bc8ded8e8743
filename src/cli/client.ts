import { CliError, EXIT } from './exit-codes.js';

export interface ApiClientOptions {
  baseUrl: string;
  token: string | undefined;
}

/** The tw-webhooks HTTP API as the CLI calls it: JSON in and out, errors as CliErrors with exit codes. */
export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

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
    if (!response.ok) await this.fail(response);
    return response;
  }

  private async request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
    const response = await this.fetch(method, path, body, accept);
    if (!response.ok) await this.fail(response);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private async fetch(method: string, path: string, body: unknown, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = new URL(path, this.options.baseUrl);
    try {
      return await fetch(url, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the tw-webhooks API at ${this.options.baseUrl} (${cause?.code ?? cause?.message ?? String(error)}); set TW_API_URL`,
        EXIT.unreachable,
      );
    }
  }

  private async fail(response: Response): Promise<never> {
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
    const exitCode = response.status === 403 ? EXIT.auth : response.status === 404 ? EXIT.notFound : EXIT.error;
    throw new CliError(`${message} (${code})`, exitCode);
  }
}
