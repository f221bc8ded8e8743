import { signHmacSha256 } from '../verify/hmac-sha256.js';
import type { Incident } from '../incidents/model.js';
import { incidentJson } from '../wire/incident.js';
import { OCSF_MEDIA_TYPE, ocsfFinding } from '../wire/ocsf.js';
import type { TriageFormat } from '../config/pipeline-settings.js';

export type DeliveryResult = { ok: true } | { ok: false; retryable: boolean; error: string };

export interface RunnerClientOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  /** What the body is: our request envelope, or the incident as an OCSF Detection Finding. */
  format: TriageFormat;
  nowSeconds?: () => number;
}

/** Statuses that say "not now" (retry) rather than "never" (fail at once). */
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429]);

/**
 * POSTs a triage request to the playbook runner, signed the way our own receivers verify
 * (`X-Webhook-Timestamp` + `X-Webhook-Signature: sha256=<hex HMAC of "<ts>.<body>">`). The incident
 * id is the idempotency key (`Idempotency-Key` and Standard Webhooks' `webhook-id`), so a retry of
 * a request the runner already took is recognizable; `X-Triage-Attempt` numbers the attempts and
 * `X-Triage-Playbook` names the playbook, so an OCSF body (which has no place for them) loses nothing.
 */
export class TriageRunnerClient {
  private readonly nowSeconds: () => number;

  constructor(private readonly options: RunnerClientOptions) {
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  async send(incident: Incident, attempt: number): Promise<DeliveryResult> {
    const ocsf = this.options.format === 'ocsf';
    const body = JSON.stringify(
      ocsf
        ? ocsfFinding(incident)
        : { request_id: incident.id, playbook: incident.triage.playbook, source: incident.source, attempt, incident: incidentJson(incident) },
    );
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': ocsf ? OCSF_MEDIA_TYPE : 'application/json',
          ...signHmacSha256(this.options.secret, body, this.nowSeconds()),
          'idempotency-key': incident.id,
          'webhook-id': incident.id,
          'x-triage-attempt': String(attempt),
          ...(incident.triage.playbook !== null && { 'x-triage-playbook': incident.triage.playbook }),
        },
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
      await response.body?.cancel();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { ok: false, retryable: true, error: `runner unreachable: ${cause ?? (error as Error).message}` };
    }
    if (response.ok) return { ok: true };
    const retryable = response.status >= 500 || RETRYABLE_STATUSES.has(response.status);
    return { ok: false, retryable, error: `runner answered ${response.status}` };
  }
}
