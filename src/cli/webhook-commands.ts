import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { SEVERITIES } from '../incidents/model.js';
import { SOURCE_SPEC_PROPERTIES, type SourceSpec, type SpecSchema } from '../sources/source-spec.js';
import { fileFieldsOf } from '../sources/webhook-config.js';
import { sourceManifests } from '../kubernetes/manifests.js';
import { VERIFICATION_PROFILES } from '../sources/source.js';
import { signedHeaders } from '../verify/sign.js';
import type { SourceJson } from '../wire/source.js';
import type { Command, CommandContext, FlagSpec, FlagSpecs, FlagValues } from './command.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { printDocument, printFields, printItems, type Column } from './output.js';

const SOURCE_COLUMNS: Column<SourceJson>[] = [
  { header: 'SOURCE', value: (source) => source.source },
  { header: 'ORIGIN', value: (source) => source.origin },
  { header: 'ENABLED', value: (source) => source.enabled },
  { header: 'VERIFICATION', value: (source) => source.verification },
  { header: 'FORMAT', value: (source) => source.format ?? 'detect' },
  { header: 'AUTO-TRIAGE', value: (source) => source.auto_triage },
  { header: 'PLAYBOOK', value: (source) => source.playbook },
  { header: 'SECRETS', value: (source) => source.active_secrets },
];

const SECRET_FLAGS: FlagSpecs = {
  secret: { type: 'string', placeholder: 'S', description: 'the shared secret; - reads it from stdin, so it stays out of shell history' },
  'secret-file': { type: 'string', placeholder: 'FILE', description: 'read the shared secret from FILE' },
};

/** `--tolerance-seconds` for `toleranceSeconds`. */
const flagOf = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The spec fields a flag sets as given, `--<kebab-case key> <value>`, checked against the field's schema. */
const VALUE_FIELDS = (Object.entries(SOURCE_SPEC_PROPERTIES) as [keyof SourceSpec, SpecSchema][]).filter(
  ([, schema]) => schema.type === 'string' || schema.type === 'integer',
);

const valueHint = (schema: SpecSchema) => (schema.type === 'integer' ? 'N' : 'S');

/** A value flag's help: the first sentence of the field's description in the spec. */
function valueFlag(schema: SpecSchema): FlagSpec {
  return {
    type: 'string',
    placeholder: valueHint(schema),
    description: schema.description?.split(/\.(\s|$)/, 1)[0] ?? '',
    ...(schema.enum && { choices: schema.enum }),
  };
}

/** Every field of the spec as a flag: the value fields derived, the fields a value flag cannot say with flags of their own. */
const SPEC_FLAGS: FlagSpecs = {
  ...Object.fromEntries(VALUE_FIELDS.map(([key, schema]) => [flagOf(key), valueFlag(schema)])),
  'auto-triage': { type: 'boolean', optionalValue: true, description: 'triage incidents of this source automatically (needs --playbook)' },
  'severity-map': {
    type: 'string',
    placeholder: 'k=v,…',
    description: `vendor severity → ${SEVERITIES.join('|')}; merged into the current map (k= removes k)`,
  },
  'rate-limit': { type: 'string', placeholder: 'RPS', description: 'authenticated requests per second for this source, per replica (default: none)' },
  burst: { type: 'string', placeholder: 'N', description: 'requests at once, at least the rate (with --rate-limit)' },
  disabled: { type: 'boolean', description: 'stop serving the source (its URL answers 404 unknown_source)' },
  enabled: { type: 'boolean', description: 'serve the source again' },
  'filter-match': {
    type: 'string',
    placeholder: 'EXPR',
    description: 'CEL: events for which it is false are answered 200 filtered, not stored (docs/filters.md)',
  },
  'filter-severity': { type: 'string', placeholder: 'EXPR', description: 'CEL: the incident severity (critical|high|medium|low|info)' },
  'filter-label': { type: 'string', multiple: true, placeholder: 'NAME=EXPR', description: 'CEL: a label to add and the expression of its value (repeatable)' },
};

/** Reads the secret from --secret, --secret-file or stdin (`--secret -`), trimming one final newline. */
async function secretFrom(ctx: CommandContext, values: FlagValues, required: boolean): Promise<string | undefined> {
  const inline = values.secret as string | undefined;
  const file = values['secret-file'] as string | undefined;
  if (inline !== undefined && file !== undefined) throw usageError('give --secret or --secret-file, not both');
  let secret: string | undefined;
  if (file !== undefined)
    secret = await readFile(file, 'utf8').catch((error: Error) => Promise.reject(new CliError(`cannot read ${file}: ${error.message}`, EXIT.usage)));
  else if (inline === '-') secret = (await ctx.readStdin()).toString('utf8');
  else {
    secret = inline;
    if (secret !== undefined)
      ctx.note('warning: --secret on the command line shows in `ps` and in shell history; prefer --secret-file F or --secret - (stdin)\n');
  }
  secret = secret?.replace(/\r?\n$/, '');
  if (required && !secret) throw usageError('a secret is required: --secret S, --secret-file F or --secret - (stdin)');
  return secret;
}

function integerFlag(values: FlagValues, name: string): number | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  if (!/^[0-9]+$/.test(raw)) throw usageError(`--${name} must be a whole number`);
  return Number(raw);
}

function oneOfFlag<T extends string>(values: FlagValues, name: string, allowed: readonly T[]): T | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw usageError(`--${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

/** The flags as a (camelCase) spec; only what was given. A severity map may hold nulls: PATCH removes those keys. */
function specFromFlags(values: FlagValues): SourceSpec {
  const spec: Record<string, unknown> = {};
  for (const [key, schema] of VALUE_FIELDS) {
    const flag = flagOf(key);
    const value = schema.enum
      ? oneOfFlag(values, flag, schema.enum)
      : schema.type === 'integer'
        ? integerFlag(values, flag)
        : (values[flag] as string | undefined);
    if (value !== undefined) spec[key] = value;
  }
  if (values['auto-triage'] !== undefined) spec.autoTriage = values['auto-triage'] === true;
  const severityMap = values['severity-map'] as string | undefined;
  if (severityMap !== undefined) {
    const mapping: Record<string, string> = {};
    for (const pair of severityMap.split(',').filter((item) => item.trim() !== '')) {
      const [vendor, ours] = pair.split('=').map((part) => part.trim());
      if (vendor && pair.includes('=') && ours === '') {
        // `k=` removes k from the source's map (PATCH merges maps; null deletes a key).
        (mapping as Record<string, string | null>)[vendor.toLowerCase()] = null;
        continue;
      }
      if (!vendor || !ours || !(SEVERITIES as readonly string[]).includes(ours)) {
        throw usageError(`--severity-map entries are vendor=severity with severity one of ${SEVERITIES.join(', ')}; got '${pair}'`);
      }
      // Vendor values are matched lower-cased, so keys are written that way.
      mapping[vendor.toLowerCase()] = ours;
    }
    spec.severityMapping = mapping;
  }
  const rate = values['rate-limit'] as string | undefined;
  if (rate !== undefined) {
    const requestsPerSecond = integerFlag(values, 'rate-limit')!;
    const burst = integerFlag(values, 'burst');
    spec.rateLimit = { requestsPerSecond, ...(burst !== undefined && { burst }) };
  } else if (values.burst !== undefined) throw usageError('--burst needs --rate-limit');
  const filter = filterFromFlags(values);
  if (filter) spec.filter = filter;
  if (values.disabled === true && values.enabled === true) throw usageError('--disabled and --enabled at once');
  if (values.disabled !== undefined) spec.suspend = values.disabled === true;
  if (values.enabled !== undefined) spec.suspend = values.enabled !== true;
  return spec;
}

/** `--filter-match`, `--filter-severity` and `--filter-label name=expr` as the spec's filter (docs/filters.md); the service compiles it. */
function filterFromFlags(values: FlagValues): SourceSpec['filter'] {
  const match = values['filter-match'] as string | undefined;
  const severity = values['filter-severity'] as string | undefined;
  const labels: Record<string, string> = {};
  for (const pair of (values['filter-label'] as string[] | undefined) ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usageError(`--filter-label takes NAME=EXPRESSION; got '${pair}'`);
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  const filter = { ...(match !== undefined && { match }), ...(severity !== undefined && { severity }), ...(Object.keys(labels).length > 0 && { labels }) };
  return Object.keys(filter).length > 0 ? filter : undefined;
}

const sourcePath = (name: string) => `/api/webhooks/${encodeURIComponent(name)}`;

/** Header names as senders write them (`X-Webhook-Signature`, `Webhook-Id`). */
const headerCase = (name: string) => name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());

/** A source as `webhook get` shows it: everything the API says about it. */
function describeSource(source: SourceJson): [string, unknown][] {
  const rate = source.rate_limit as { requests_per_second: number; burst?: number } | null;
  return [
    ['Source', source.source],
    ['Path', `POST ${source.webhook_path}`],
    ['Origin', source.origin],
    ['Enabled', source.enabled],
    ['Verification', source.verification],
    ['Format', source.format ?? 'detected per payload'],
    ['Auto-triage', source.auto_triage],
    ['Playbook', source.playbook],
    ['Severity mapping', source.severity_mapping],
    ['Tolerance', source.tolerance_seconds === null ? '-' : `${source.tolerance_seconds} s`],
    ['Max body', source.max_body_bytes === null ? '-' : `${source.max_body_bytes} bytes`],
    ['Rate limit', rate ? `${rate.requests_per_second}/s, burst ${rate.burst ?? rate.requests_per_second}` : 'none'],
    ['Processing', source.processing],
    ['Active secrets', source.active_secrets],
  ];
}

interface TestResult {
  source: string;
  accepted: boolean;
  status: number;
  response: { incident_number?: string; duplicate?: boolean; error?: { code: string; message: string } } | string;
  latency_ms: number;
}

export const webhookCommands: Command[] = [
  {
    path: ['webhook', 'add'],
    args: ['source'],
    summary: 'Register a webhook source (or, with -o yaml, print its WebhookSource + Secret for GitOps)',
    details: [
      'Examples:',
      '  tw-cli webhook add edr --secret-file edr.secret',
      '  tw-cli webhook add email-gateway --secret - --auto-triage true --playbook phishing_triage < secret.txt',
      '  tw-cli webhook add edr --secret-file edr.secret -o yaml --namespace security > edr.yaml   # nothing is sent',
    ],
    flags: { ...SECRET_FLAGS, ...SPEC_FLAGS, namespace: { type: 'string', placeholder: 'NS', description: 'namespace of the printed manifests (-o yaml)' } },
    async run(ctx, values, [name]) {
      const secret = (await secretFrom(ctx, values, true))!;
      const spec = specFromFlags(values);
      if (ctx.output === 'yaml') {
        // GitOps: the objects to commit, not an API call.
        const manifests = sourceManifests({ name: name!, namespace: values.namespace as string | undefined, secret, spec });
        ctx.write(manifests.map((manifest) => stringify(manifest)).join('---\n'));
        return EXIT.ok;
      }
      const created = await ctx.client.post<SourceJson>('/api/webhooks', { source: name, secret, ...fileFieldsOf(spec) });
      if (ctx.outputGiven) printDocument(ctx.write, ctx.output, created);
      else ctx.write(`webhook source '${created.source}' registered: POST ${created.webhook_path}\n`);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'update'],
    args: ['source'],
    summary: 'Change a source registered through the API; a new secret rotates (the old one stays valid for the grace period)',
    details: ['Only the flags given change; --severity-map entries are merged into the current map (vendor= removes one).'],
    flags: { ...SECRET_FLAGS, ...SPEC_FLAGS },
    async run(ctx, values, [name]) {
      const secret = await secretFrom(ctx, values, false);
      const change = { ...fileFieldsOf(specFromFlags(values)), ...(secret !== undefined && { secret }) };
      if (Object.keys(change).length === 0) throw usageError('nothing to change: give --secret or a flag of the source');
      const updated = await ctx.client.patch<SourceJson>(sourcePath(name!), change);
      if (ctx.outputGiven) printDocument(ctx.write, ctx.output, updated);
      else ctx.write(`webhook source '${updated.source}' updated (${updated.active_secrets} active secret${updated.active_secrets === 1 ? '' : 's'})\n`);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'list'],
    aliases: ['ls'],
    args: [],
    summary: 'List the webhook sources served, from every origin (file, cluster, API); secrets are never shown',
    flags: {},
    async run(ctx) {
      const list = await ctx.client.get<{ items: SourceJson[] }>('/api/webhooks');
      printItems(ctx.write, ctx.output, list.items, SOURCE_COLUMNS, list);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'get'],
    aliases: ['describe'],
    args: ['source'],
    summary: 'Show one webhook source with all its settings',
    flags: {},
    async run(ctx, _values, [name]) {
      const source = await ctx.client.get<SourceJson>(sourcePath(name!));
      if (ctx.output === 'table') printFields(ctx.write, describeSource(source));
      else printDocument(ctx.write, ctx.output, source);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'remove'],
    aliases: ['delete', 'rm'],
    args: ['source'],
    summary: 'Remove a source registered through the API (its URL answers 404 unknown_source afterwards)',
    flags: {},
    async run(ctx, _values, [name]) {
      await ctx.client.delete(sourcePath(name!));
      ctx.write(`webhook source '${name}' removed\n`);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'test'],
    args: ['source'],
    summary: `Send a signed test event through the real receiver; exit ${EXIT.ok} when accepted, ${EXIT.testRejected} when rejected`,
    details: [
      "The event is signed in the source's verification profile and shaped in its format. It is stored as",
      "a test incident: never triaged, and listed by 'incident list' only with --include-tests.",
    ],
    flags: {},
    async run(ctx, _values, [name]) {
      const result = await ctx.client.post<TestResult>(`${sourcePath(name!)}/test`);
      if (ctx.outputGiven) printDocument(ctx.write, ctx.output, result);
      else {
        const answer = typeof result.response === 'string' ? { error: { code: `http_${result.status}`, message: result.response } } : result.response;
        const detail = answer.error
          ? `${answer.error.code}: ${answer.error.message}`
          : `${answer.incident_number ?? ''}${answer.duplicate ? ' (duplicate)' : ''}`;
        ctx.write(`${result.accepted ? 'accepted' : 'rejected'}: HTTP ${result.status} ${detail} (${Math.round(result.latency_ms)} ms)\n`);
      }
      return result.accepted ? EXIT.ok : EXIT.testRejected;
    },
  },
  {
    path: ['webhook', 'sign'],
    args: [],
    summary: 'Sign a body read from stdin and print the headers a sender sends, in any verification profile',
    details: [
      'Examples:',
      '  echo -n \'{"event_type":"test","data":{}}\' | tw-cli webhook sign --secret-file edr.secret',
      '  tw-cli webhook sign --secret-file whsec.txt --verification standard-webhooks --id msg_1 < alert.json',
    ],
    flags: {
      ...SECRET_FLAGS,
      verification: { type: 'string', choices: VERIFICATION_PROFILES, placeholder: 'V', description: 'the profile to sign in (default hmac-sha256)' },
      timestamp: { type: 'string', placeholder: 'T', description: 'unix seconds (default: now)' },
      id: { type: 'string', placeholder: 'ID', description: 'the webhook-id (standard-webhooks; default: a new one)' },
    },
    async run(ctx, values) {
      if (values.secret === '-') throw usageError('the body comes from stdin here: give the secret with --secret S or --secret-file FILE');
      const secret = (await secretFrom(ctx, values, true))!;
      const profile = oneOfFlag(values, 'verification', VERIFICATION_PROFILES) ?? 'hmac-sha256';
      const timestamp = integerFlag(values, 'timestamp') ?? Math.floor(Date.now() / 1000);
      const id = (values.id as string | undefined) ?? `msg_${randomUUID()}`;
      const headers = Object.fromEntries(
        Object.entries(signedHeaders(profile, Buffer.from(secret), await ctx.readStdin(), timestamp, id)).map(([header, value]) => [headerCase(header), value]),
      );
      if (ctx.outputGiven && ctx.output !== 'table') printDocument(ctx.write, ctx.output, headers);
      else
        ctx.write(
          Object.entries(headers)
            .map(([header, value]) => `${header}: ${value}\n`)
            .join(''),
        );
      return EXIT.ok;
    },
  },
];
