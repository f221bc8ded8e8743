import { randomUUID } from 'node:crypto';
import { DomainError } from '../../core/errors.js';
import { specOf, type FileSource } from '../../sources/webhook-config.js';
import { SOURCE_DEFAULTS, brokenRules, fileKeys, filterProblems, toSource } from '../../sources/source-spec.js';
import type { Source } from '../../sources/source.js';
import { API_ORIGIN } from '../../providers/api/api-provider.js';
import type { RegistrationSpec } from '../../sources/registered-source.js';
import { notRegistered, type Registrations } from '../../sources/registered-source.js';
import { signedHeaders } from '../../verify/sign.js';
import { MIN_SECRET_BYTES, isWeakSecret } from '../../verify/secret-strength.js';
import { testEventPayload } from '../../normalize/test-event.js';
import { sourceJson } from '../../wire/source.js';
import type { Dispatch } from '../in-process.js';
import type { RecordChange } from './audit.js';
import type { RequestMiddleware } from '../state.js';
import type { RouteHandlers } from '../routes.js';
import { jsonBody, validBody } from './json-body.js';
import { routeBody } from './validation.js';

type RegistrationBody = FileSource & { source: string };
type ChangeBody = Record<string, unknown> & { secret?: string };

const validateRegistration = routeBody<RegistrationBody>('webhooks.register');
const validateChange = routeBody<ChangeBody>('webhooks.update');

export interface WebhooksDeps {
  /** Every source served, whichever provider declared it. */
  sources: { get(name: string): Source | undefined; list(): readonly Source[] };
  registrations: Registrations;
  /** false for pure-GitOps installs (TW_REGISTRATION_API=false): writes answer 405. */
  registrationEnabled: boolean;
  /** The receiver as a server of this process, in memory: test events go through the real receiver. */
  dispatch: Dispatch;
  nowMs: () => number;
}

/**
 * The registration API (`/api/webhooks`) and test events. Names taken by any provider (file,
 * cluster, API) are conflicts; sources declared elsewhere are shown but changed where they live.
 */
export function webhooksHandlers(
  deps: WebhooksDeps & { recordChange: RecordChange },
): Pick<RouteHandlers, 'webhooks.list' | 'webhooks.get' | 'webhooks.register' | 'webhooks.update' | 'webhooks.remove' | 'webhooks.test'> {
  const writable: RequestMiddleware = async (ctx, next) => {
    if (!deps.registrationEnabled) {
      throw new DomainError(
        'method_not_allowed',
        'Registration through the API is turned off (TW_REGISTRATION_API=false): declare sources in webhook_config.yaml or as WebhookSource objects',
      );
    }
    await next();
  };

  return {
    'webhooks.list': (ctx) => {
      ctx.body = { items: [...deps.sources.list()].sort((a, b) => a.name.localeCompare(b.name)).map(sourceJson) };
    },

    'webhooks.get': async (ctx) => {
      const name = String(ctx.params.source);
      const served = deps.sources.get(name);
      if (served) return void (ctx.body = sourceJson(served));
      const spec = await deps.registrations.spec(name);
      if (!spec) throw notRegistered(name);
      ctx.body = sourceJson(describe(name, spec, 1));
    },

    'webhooks.register': [
      writable,
      jsonBody(),
      async (ctx) => {
        const { source: name, secret, previous_secret: previousSecret, ...fields } = validBody(ctx, validateRegistration);
        const spec = checkedSpec(fields);
        refuseWeak(spec, { secret, previous_secret: previousSecret });
        const taken = deps.sources.get(name);
        if (taken)
          throw new DomainError(
            'conflict',
            `Webhook source '${name}' is already registered (${taken.origin === API_ORIGIN ? 'through the API' : `declared in ${taken.origin}`})`,
          );
        const described = describe(name, spec, previousSecret === undefined ? 1 : 2);
        await deps.registrations.create({ name, secret, spec, ...(previousSecret !== undefined && { previousSecret }) });
        await deps.recordChange(ctx, 'source.register', name, { keys: Object.keys(fields).sort(), previous_secret: previousSecret !== undefined });
        ctx.status = 201;
        ctx.set('Location', `/api/webhooks/${name}`);
        ctx.body = sourceJson(deps.sources.get(name) ?? described);
      },
    ],

    'webhooks.update': [
      writable,
      jsonBody(),
      async (ctx) => {
        const name = String(ctx.params.source);
        const { secret, severity_mapping: mappingPatch, ...fields } = validBody(ctx, validateChange);
        await refuseForeign(deps, name);
        const current = await deps.registrations.spec(name);
        if (!current) throw notRegistered(name);
        const change = specOf({
          ...fields,
          ...(mappingPatch !== undefined && { severity_mapping: mergedMapping(current.severityMapping, mappingPatch as Record<string, string | null>) }),
        });
        checkRules({ ...current, ...change }); // the merged source must still hold together
        refuseWeak({ ...current, ...change }, { secret });
        const spec = await deps.registrations.update(name, { spec: change, ...(secret !== undefined && { secret }) });
        await deps.recordChange(ctx, 'source.update', name, { keys: Object.keys(fields).sort(), secret_rotated: secret !== undefined });
        ctx.body = sourceJson(deps.sources.get(name) ?? describe(name, spec, secret === undefined ? 1 : 2));
      },
    ],

    'webhooks.remove': [
      writable,
      async (ctx) => {
        const name = String(ctx.params.source);
        await refuseForeign(deps, name);
        await deps.registrations.remove(name);
        await deps.recordChange(ctx, 'source.remove', name);
        ctx.status = 204;
      },
    ],

    'webhooks.test': async (ctx) => {
      const name = String(ctx.params.source);
      const source = deps.sources.get(name);
      if (!source || !source.enabled) throw notRegistered(name);
      ctx.body = await sendTestEvent(deps, source);
    },
  };
}

/** The current map with the patch applied: null removes a key, a value sets it. */
function mergedMapping(current: Readonly<Record<string, string>> | undefined, patch: Record<string, string | null>): Record<string, string> {
  // A Map, so a vendor value such as `__proto__` stays a key (fromEntries defines own properties).
  const merged = new Map(Object.entries(current ?? {}));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) merged.delete(key);
    else merged.set(key, value);
  }
  return Object.fromEntries(merged);
}

/** Sources of the file or the cluster are changed there, not here. */
async function refuseForeign(deps: WebhooksDeps, name: string): Promise<void> {
  const served = deps.sources.get(name);
  if (served && served.origin !== API_ORIGIN && !(await deps.registrations.spec(name))) {
    throw new DomainError('conflict', `Webhook source '${name}' is declared in ${served.origin}; change it there`);
  }
}

/** Registered secrets are at least MIN_SECRET_BYTES of key for the source's profile (declared ones only warn, see startupWarnings). */
function refuseWeak(spec: RegistrationSpec, secrets: Record<string, string | undefined>): void {
  const profile = spec.verification ?? SOURCE_DEFAULTS.verification;
  for (const [key, secret] of Object.entries(secrets)) {
    if (secret !== undefined && isWeakSecret(profile, Buffer.from(secret, 'utf8'))) {
      throw new DomainError(
        'bad_request',
        `${key} must be at least ${MIN_SECRET_BYTES} bytes${profile === 'standard-webhooks' ? ' of key' : ''}; generate one with \`openssl rand -hex 32\``,
      );
    }
  }
}

/** The camelCase spec of validated body fields, once the rules across fields hold. */
function checkedSpec(fields: Record<string, unknown>): RegistrationSpec {
  const spec = specOf(fields);
  checkRules(spec);
  return spec;
}

/** The rules across fields (auto-triage needs a playbook, …) and the filter's expressions compiling, in the body's key names. */
function checkRules(spec: RegistrationSpec): void {
  const broken = [...brokenRules(spec, fileKeys), ...filterProblems(spec, fileKeys)];
  if (broken.length > 0) throw new DomainError('bad_request', broken.join('; '));
}

/** The source a spec describes, for answers given before (or without) the registry serving it. */
function describe(name: string, spec: RegistrationSpec, activeSecrets: number): Source {
  return toSource({ name, origin: API_ORIGIN, spec, secrets: Array.from({ length: activeSecrets }, () => Buffer.alloc(0)) });
}

/** A token that travels in a header exactly as it is: visible ASCII, spaces only inside. */
const HEADER_SAFE_TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * A signed test event in the source's format and verification profile, handed to this process's
 * own receiver in memory, so it takes the real path (lookup, verification, normalization, storage)
 * and lands in the delivery log like any other. It is marked as a test inside the signed body:
 * its incident is never triaged and is left out of default listings.
 */
async function sendTestEvent(deps: WebhooksDeps, source: Source) {
  const nowMs = deps.nowMs();
  const eventId = `tw-test-${randomUUID()}`;
  const body = Buffer.from(JSON.stringify(testEventPayload(source.format, source.name, eventId, new Date(nowMs))));
  const secret = source.secrets[0]!;
  // A token a header cannot carry as it is (spaces at its ends, control or non-ASCII characters) comes as Splunk's ?token=.
  const tokenInQuery = source.verification === 'token' && !HEADER_SAFE_TOKEN.test(secret.toString('utf8'));
  const headers = tokenInQuery ? {} : signedHeaders(source.verification, secret, body, Math.floor(nowMs / 1000), eventId);
  const query = tokenInQuery ? `?token=${encodeURIComponent(secret.toString('utf8'))}` : '';
  const started = performance.now();
  const response = await deps
    .dispatch({
      method: 'POST',
      path: `/api/webhooks/${encodeURIComponent(source.name)}${query}`,
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'tw-webhooks-test' },
      body,
      timeoutMs: 10_000,
    })
    .catch((error: unknown) => {
      throw new DomainError('unavailable', `The test event could not reach this replica's receiver: ${(error as Error).message}`, { retryAfterSeconds: 1 });
    });
  const text = response.body.toString('utf8');
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // kept as text
  }
  return {
    source: source.name,
    accepted: response.status >= 200 && response.status < 300,
    status: response.status,
    response: answer,
    latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
  };
}
