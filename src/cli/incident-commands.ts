import type { incidentJson } from '../wire/incident.js';
import { INCIDENT_STATUSES, SEVERITIES } from '../incidents/model.js';
import { OCSF_MEDIA_TYPE, OCSF_VERSION } from '../wire/ocsf.js';
import type { Command, CommandContext, FlagValues } from './command.js';
import { EXIT } from './exit-codes.js';
import { noteMore, PAGE_FLAGS, pageQuery, query, TIME_FLAGS } from './list-flags.js';
import { printDocument, printFields, printItems, type Column } from './output.js';

type IncidentJson = ReturnType<typeof incidentJson>;
type IncidentSummaryJson = Omit<IncidentJson, 'raw'>;

const INCIDENT_COLUMNS: Column<IncidentSummaryJson>[] = [
  { header: 'NUMBER', value: (incident) => incident.incident_number },
  { header: 'SOURCE', value: (incident) => incident.source },
  { header: 'SEVERITY', value: (incident) => incident.severity },
  { header: 'STATUS', value: (incident) => incident.status },
  { header: 'RECEIVED', value: (incident) => incident.received_at },
  { header: 'TITLE', value: (incident) => incident.title },
];

/** The raw body as sent, pretty-printed when it is JSON, whole: it is the evidence. */
function rawBody(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function printIncident(ctx: CommandContext, incident: IncidentJson): void {
  const { raw, ...summary } = incident;
  const fields: [string, unknown][] = [
    ['Number', summary.incident_number],
    ['Id', summary.incident_id],
    ['Title', summary.title],
    ['Source', `${summary.source} (${summary.format}, ${summary.event_type})`],
    ['Severity', `${summary.severity}${summary.vendor_severity ? ` (vendor: ${summary.vendor_severity})` : ''}`],
    ['Type', summary.incident_type],
    ['Status', summary.status],
    [
      'Acknowledged',
      summary.acknowledged && `${summary.acknowledged.at} by ${summary.acknowledged.by}${summary.acknowledged.note ? `: ${summary.acknowledged.note}` : ''}`,
    ],
    ['Resolved', summary.resolved && `${summary.resolved.at} by ${summary.resolved.by}${summary.resolved.note ? `: ${summary.resolved.note}` : ''}`],
    ['Test event', summary.test],
    ['Occurred', summary.occurred_at],
    ['Received', summary.received_at],
    ['External id', summary.external_id],
    ['Triage', `${summary.triage.state}${summary.triage.playbook ? ` (${summary.triage.playbook})` : ''}`],
    ['Observables', summary.observables],
    ['MITRE ATT&CK', summary.mitre],
  ];
  printFields(ctx.write, fields);
  ctx.write(raw === null ? 'Raw body: dropped by retention\n' : `Raw body:\n${rawBody(raw)}\n`);
}

const incidentPath = (id: string) => `/api/incidents/${encodeURIComponent(id)}`;

export const incidentCommands: Command[] = [
  {
    path: ['incident', 'list'],
    aliases: ['ls'],
    args: [],
    summary: 'List incidents, newest first',
    details: [
      'Examples:',
      '  tw-cli incident list --severity high --since 24h',
      '  tw-cli incident list --status new -o json | jq -r ".items[].incident_number"',
    ],
    flags: {
      source: { type: 'string', placeholder: 'S', description: 'only incidents of this source' },
      severity: { type: 'string', choices: SEVERITIES, placeholder: 'S', description: 'only this severity' },
      status: { type: 'string', choices: INCIDENT_STATUSES, placeholder: 'S', description: 'only this status' },
      'include-tests': { type: 'boolean', description: "also the incidents of test events ('webhook test')" },
      ...PAGE_FLAGS,
      ...TIME_FLAGS,
    },
    async run(ctx, values) {
      const filters = {
        source: values.source as string,
        severity: values.severity as string,
        status: values.status as string,
        test: values['include-tests'] === true ? undefined : 'false',
      };
      const page = await ctx.client.get<{ items: IncidentSummaryJson[]; next: string | null }>(`/api/incidents${query({ ...filters, ...pageQuery(values) })}`);
      printItems(ctx.write, ctx.output, page.items, INCIDENT_COLUMNS, page);
      noteMore(ctx, page.next, 'tw-cli incident list');
      return EXIT.ok;
    },
  },
  {
    path: ['incident', 'get'],
    aliases: ['describe'],
    args: ['id-or-number'],
    summary: 'Show one incident (by id or INC-yyyy-nnnn) with its raw body',
    details: [`-o ocsf prints the incident as an OCSF ${OCSF_VERSION} Detection Finding (JSON).`],
    flags: {},
    representations: { ocsf: OCSF_MEDIA_TYPE },
    async run(ctx, _values, [id]) {
      const incident = await ctx.client.get<IncidentJson>(incidentPath(id!), ctx.accept);
      if (ctx.output === 'table') printIncident(ctx, incident);
      else printDocument(ctx.write, ctx.output, incident);
      return EXIT.ok;
    },
  },
];

/** `incident acknowledge|resolve <id>`: a status change recorded with who (the API key) and when. */
function statusChange(verb: 'acknowledge' | 'resolve', status: string, summary: string): Command {
  return {
    path: ['incident', verb],
    aliases: verb === 'acknowledge' ? ['ack'] : [],
    args: ['id-or-number'],
    summary,
    flags: { note: { type: 'string', placeholder: 'TEXT', description: 'why, for whoever reads the incident next' } },
    async run(ctx, values: FlagValues, [id]) {
      const incident = await ctx.client.post<IncidentSummaryJson & { status_changed_by?: string }>(`${incidentPath(id!)}/${verb}`, {
        ...(values.note !== undefined && { note: values.note }),
      });
      if (ctx.outputGiven && ctx.output !== 'table') printDocument(ctx.write, ctx.output, incident);
      else ctx.write(`${incident.incident_number} ${status}\n`);
      return EXIT.ok;
    },
  };
}

incidentCommands.push(
  statusChange('acknowledge', 'acknowledged', 'Acknowledge an incident: someone is on it (recorded with the API key and the time)'),
  statusChange('resolve', 'resolved', 'Resolve an incident (recorded with the API key and the time)'),
);
