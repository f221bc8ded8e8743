import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { SEVERITIES } from '../incidents/model.js';
import { SOURCE_SPEC_PROPERTIES, type SourceSpec, type SpecSchema } from '../sources/source-spec.js';
import { fileFieldsOf } from '../sources/webhook-config.js';
import { sourceManifests } from '../kubernetes/manifests.js';
import { signHmacSha256 } from '../verify/hmac-sha256.js';
import type { SourceJson } from '../wire/source.js';
import type { Command, CommandContext, OptionValues } from './command.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { printDocument, printItems, type Column } from './output.js';

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

const SECRET_FLAGS = {
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
} as const;

/** `--tolerance-seconds` for `toleranceSeconds`. */
const flagOf = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The spec fields a flag sets as given, `--<kebab-case key> <value>`, checked against the field's schema. */
const VALUE_FIELDS = (Object.entries(SOURCE_SPEC_PROPERTIES) as [keyof SourceSpec, SpecSchema][]).filter(
  ([, schema]) => schema.type === 'string' || schema.type === 'integer',
);

/** The fields a value flag cannot say, with flags of their own. */
const SHAPED_FLAGS = {
  'auto-triage': { type: 'boolean' },
  'no-auto-triage': { type: 'boolean' },
  'severity-map': { type: 'string' },
  'rate-limit': { type: 'string' },
  burst: { type: 'string' },
  disabled: { type: 'boolean' },
  enabled: { type: 'boolean' },
  'filter-match': { type: 'string' },
  'filter-severity': { type: 'string' },
  'filter-label': { type: 'string', multiple: true },
} as const;

const SPEC_FLAGS = { ...Object.fromEntries(VALUE_FIELDS.map(([key]) => [flagOf(key), { type: 'string' } as const])), ...SHAPED_FLAGS };

const valueHint = (schema: SpecSchema) => (schema.enum ? schema.enum.join('|') : schema.type === 'integer' ? 'N' : 'S');

/** A help line: the flag, then what it sets (on the next line when the flag is too long to share one). */
const flagHelp = (flag: string, text: string) => (flag.length < 43 ? `${flag.padEnd(43)} ${text}` : `${flag}\n${' '.repeat(44)}${text}`);

const SPEC_FLAG_HELP = [
  '--secret S | --secret-file F | --secret -   the shared secret (- reads it from stdin)',
  '--auto-triage [true|false]                  triage incidents of this source automatically',
  ...VALUE_FIELDS.map(([key, schema]) => flagHelp(`--${flagOf(key)} ${valueHint(schema)}`, schema.description?.split(/\.(\s|$)/, 1)[0] ?? '')),
  `--severity-map k=v,...                      vendor severity → ${SEVERITIES.join('|')}`,
  '--rate-limit RPS  --burst N                 authenticated requests per second for this source, and at once',
  '--disabled | --enabled                      stop or resume serving the source',
  '--filter-match EXPR                         CEL: events for which it is false are answered 200 filtered, not stored',
  '--filter-severity EXPR                      CEL: the incident severity (critical|high|medium|low|info)',
  '--filter-label NAME=EXPR (repeatable)       CEL: a label to add and the expression of its value',
];

/** Reads the secret from --secret, --secret-file or stdin (`--secret -`), trimming one final newline. */
async function secretFrom(ctx: CommandContext, values: OptionValues, required: boolean): Promise<string | undefined> {
  const inline = values.secret as string | undefined;
  const file = values['secret-file'] as string | undefined;
  if (inline !== undefined && file !== undefined) throw usageError('give --secret or --secret-file, not both');
  let secret: string | undefined;
  if (file !== undefined)
    secret = await readFile(file, 'utf8').catch((error: Error) => Promise.reject(new CliError(`cannot read ${file}: ${error.message}`, EXIT.usage)));
  else if (inline === '-') secret = (await ctx.readStdin()).toString('utf8');
  else secret = inline;
  secret = secret?.replace(/\r?\n$/, '');
  if (required && !secret) throw usageError('a secret is required: --secret S, --secret-file F or --secret - (stdin)');
  return secret;
}

function integerFlag(values: OptionValues, name: string): number | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  if (!/^[0-9]+$/.test(raw)) throw usageError(`--${name} must be a whole number`);
  return Number(raw);
}

function oneOfFlag<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw usageError(`--${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

/** The flags as a (camelCase) spec; only what was given. */
export function specFromFlags(values: OptionValues): SourceSpec {
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
  if (values['auto-triage'] && values['no-auto-triage']) throw usageError('--auto-triage true and false at once');
  if (values['auto-triage']) spec.autoTriage = true;
  if (values['no-auto-triage']) spec.autoTriage = false;
  const severityMap = values['severity-map'] as string | undefined;
  if (severityMap !== undefined) {
    const mapping: Record<string, string> = {};
    for (const pair of severityMap.split(',').filter((item) => item.trim() !== '')) {
      const [vendor, ours] = pair.split('=').map((part) => part.trim());
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
  if (values.disabled && values.enabled) throw usageError('--disabled and --enabled at once');
  if (values.disabled) spec.suspend = true;
  if (values.enabled) spec.suspend = false;
  return spec as SourceSpec;
}

/** `--filter-match`, `--filter-severity` and `--filter-label name=expr` as the spec's filter (docs/filters.md); the service compiles it. */
function filterFromFlags(values: OptionValues): SourceSpec['filter'] {
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

export const webhookCommands: Command[] = [
  {
    path: ['webhook', 'add'],
    args: ['source'],
    summary: 'Register a webhook source (or, with --output yaml, print its WebhookSource + Secret for GitOps)',
    flags: [...SPEC_FLAG_HELP, '--namespace NS                              namespace of the printed manifests (--output yaml)'],
    options: { ...SECRET_FLAGS, ...SPEC_FLAGS, namespace: { type: 'string' } },
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
    flags: SPEC_FLAG_HELP,
    options: { ...SECRET_FLAGS, ...SPEC_FLAGS },
    async run(ctx, values, [name]) {
      const secret = await secretFrom(ctx, values, false);
      const change = { ...fileFieldsOf(specFromFlags(values)), ...(secret !== undefined && { secret }) };
      if (Object.keys(change).length === 0) throw usageError('nothing to change: give a secret or a flag');
      const updated = await ctx.client.patch<SourceJson>(sourcePath(name!), change);
      if (ctx.outputGiven) printDocument(ctx.write, ctx.output, updated);
      else ctx.write(`webhook source '${updated.source}' updated (${updated.active_secrets} active secret${updated.active_secrets === 1 ? '' : 's'})\n`);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'list'],
    aliases: [['webhook', 'ls']],
    args: [],
    summary: 'List the webhook sources served, from every origin (file, cluster, API); secrets are never shown',
    flags: [],
    options: {},
    async run(ctx) {
      const list = await ctx.client.get<{ items: SourceJson[] }>('/api/webhooks');
      printItems(ctx.write, ctx.output, list.items, SOURCE_COLUMNS, list);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'get'],
    args: ['source'],
    summary: 'Show one webhook source',
    flags: [],
    options: {},
    async run(ctx, _values, [name]) {
      const source = await ctx.client.get<SourceJson>(sourcePath(name!));
      if (ctx.output === 'table') printItems(ctx.write, 'table', [source], SOURCE_COLUMNS);
      else printDocument(ctx.write, ctx.output, source);
      return EXIT.ok;
    },
  },
  {
    path: ['webhook', 'remove'],
    aliases: [
      ['webhook', 'delete'],
      ['webhook', 'rm'],
    ],
    args: ['source'],
    summary: 'Remove a source registered through the API (its URL answers 404 unknown_source afterwards)',
    flags: [],
    options: {},
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
    flags: [],
    options: {},
    async run(ctx, _values, [name]) {
      const result = await ctx.client.post<{ accepted: boolean; status: number; response: unknown; latency_ms: number }>(`${sourcePath(name!)}/test`);
      if (ctx.outputGiven) printDocument(ctx.write, ctx.output, result);
      else {
        const answer = result.response as { incident_number?: string; error?: { code: string; message: string } };
        const detail = answer.error ? `${answer.error.code}: ${answer.error.message}` : (answer.incident_number ?? '');
        ctx.write(`${result.accepted ? 'accepted' : 'rejected'}: HTTP ${result.status} ${detail} (${Math.round(result.latency_ms)} ms)\n`);
      }
      return result.accepted ? EXIT.ok : EXIT.testRejected;
    },
  },
  {
    path: ['webhook', 'sign'],
    args: [],
    summary: "Sign a body read from stdin and print the two headers a sender sends (the contract's hmac-sha256)",
    flags: ['--secret S | --secret-file F   the shared secret', '--timestamp T                  unix seconds (default: now)'],
    options: { ...SECRET_FLAGS, timestamp: { type: 'string' } },
    async run(ctx, values) {
      if (values.secret === '-') throw usageError('the body comes from stdin here: give the secret with --secret or --secret-file');
      const secret = (await secretFrom(ctx, values, true))!;
      const timestamp = integerFlag(values, 'timestamp') ?? Math.floor(Date.now() / 1000);
      const headers = signHmacSha256(secret, await ctx.readStdin(), timestamp);
      if (ctx.outputGiven && ctx.output !== 'table') printDocument(ctx.write, ctx.output, headers);
      else
        ctx.write(
          Object.entries(headers)
            .map(([name, value]) => `${name}: ${value}\n`)
            .join(''),
        );
      return EXIT.ok;
    },
  },
];
