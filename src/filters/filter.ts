import { CelScalar, celEnv, celFunc, celMethod, isCelError, parse, plan } from '@bufbuild/cel';
import { RE2JS } from '@bufbuild/re2';
import { err, ok, type Result } from '../core/result.js';
import { SEVERITIES, type IncidentDraft, type Labels, type Severity } from '../incidents/model.js';
import { MAX_LABEL_VALUE_LENGTH } from '../incidents/schema.js';
import { boundsProblem } from './bounds.js';

/**
 * A source's CEL expressions (docs/filters.md), over `payload` (the parsed body) and `incident`
 * (the normalized incident, in the read API's snake_case): `match` keeps an event or filters it
 * out, `severity` sets the incident's severity, `labels` add labels. Compiled when the source is
 * loaded, refused there when they do not parse or exceed the bounds of bounds.ts.
 */
export interface FilterSpec {
  match?: string;
  severity?: string;
  labels?: Readonly<Record<string, string>>;
}

/** One refused expression: where it is in the filter (`match`, `labels.team`) and why. */
export interface FilterProblem {
  at: string;
  message: string;
}

type Program = (bindings: { payload: unknown; incident: unknown }) => unknown;

export interface CompiledFilter {
  /** What it was compiled from, as declared. */
  spec: FilterSpec;
  match: Program | undefined;
  severity: Program | undefined;
  labels: readonly (readonly [name: string, program: Program])[];
}

/** What a filter made of one event. `errors` are expressions that could not be evaluated on it (they changed nothing). */
export type FilterOutcome =
  { filtered: true; errors: readonly string[] } | { filtered: false; severity: Severity | undefined; labels: Labels; errors: readonly string[] };

/** Entries kept by each cache below; past it a cache starts over. */
const MAX_CACHED = 4096;

/**
 * Compiled patterns by text: the library compiles a `matches` pattern on every call (about 45 µs,
 * so once per element of a macro), while every pattern here is a literal of a loaded expression.
 */
const patterns = new Map<string, RE2JS>();
const cachedRe2 = {
  compile(pattern: string): RE2JS {
    let matcher = patterns.get(pattern);
    if (matcher === undefined) {
      matcher = RE2JS.compile(pattern);
      if (patterns.size >= MAX_CACHED) patterns.clear();
      patterns.set(pattern, matcher);
    }
    return matcher;
  },
};

/**
 * A string's size in code points, counted without allocating: the library's own `size` spreads the
 * string into an array of one string per code point, 75× the time for 16× the text at 1 MiB.
 */
function codePoints(text: string): bigint {
  let count = text.length;
  for (let at = 0; at < text.length - 1; at++) {
    const unit = text.charCodeAt(at);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(at + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        at++;
      }
    }
  }
  return BigInt(count);
}
const stringSize = [
  celFunc('size', [CelScalar.STRING], CelScalar.INT, codePoints),
  celMethod('size', CelScalar.STRING, [], CelScalar.INT, function () {
    return codePoints(this);
  }),
];

/**
 * The one CEL environment: the standard functions, no extensions. `matches` runs on the RE2
 * engine the library ships, linear in the text it matches.
 */
const environment = celEnv({ re2: cachedRe2, funcs: stringSize });
const isFunction = (name: string) => environment.funcs.find(name) !== undefined;

/** Compiled expressions by text, so a reload or a reconcile does not compile an unchanged one again. */
const compiled = new Map<string, Result<Program, string>>();

/** One expression: parsed, measured against the bounds, planned; or the compiler's message. */
export function compileExpression(text: string): Result<Program, string> {
  const cached = compiled.get(text);
  if (cached) return cached;
  const result = compileUncached(text);
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(text, result);
  return result;
}

function compileUncached(text: string): Result<Program, string> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch (error) {
    return err((error as Error).message.replace(/^<input>:/, ''));
  }
  const problem = boundsProblem(parsed, { isFunction, patternProblem });
  return problem === undefined ? ok(plan(environment, parsed) as Program) : err(problem);
}

const matchOnce = plan(environment, parse('"".matches(pattern)')) as (bindings: { pattern: string }) => unknown;

/** Why RE2 refuses a pattern: found by matching it once. */
function patternProblem(pattern: string): string | undefined {
  const result = matchOnce({ pattern });
  return isCelError(result) ? result.message : undefined;
}

/** The filter's expressions compiled, or every refused one with its message. */
export function compileFilter(spec: FilterSpec): Result<CompiledFilter, FilterProblem[]> {
  const problems: FilterProblem[] = [];
  const program = (at: string, text: string | undefined): Program | undefined => {
    if (text === undefined) return undefined;
    const result = compileExpression(text);
    if (result.ok) return result.value;
    problems.push({ at, message: result.error });
    return undefined;
  };
  const filter: CompiledFilter = {
    spec,
    match: program('match', spec.match),
    severity: program('severity', spec.severity),
    labels: Object.entries(spec.labels ?? {}).flatMap(([name, text]) => {
      const labelProgram = program(`labels.${name}`, text);
      return labelProgram ? [[name, labelProgram] as const] : [];
    }),
  };
  return problems.length > 0 ? err(problems) : ok(filter);
}

/**
 * Runs a filter on one event. An expression that cannot be evaluated on it (a missing field, a
 * wrong type) changes nothing and is reported in `errors`: a `match` that fails keeps the event,
 * so an alert is never lost to an expression that did not foresee its shape.
 */
export function applyFilter(filter: CompiledFilter, payload: unknown, draft: IncidentDraft, source: string): FilterOutcome {
  const bindings = { payload, incident: incidentView(draft, source) };
  const errors: string[] = [];
  /** The expression's value when it is one `accepts` takes, else undefined with the reason in `errors`. */
  const evaluate = <T>(at: string, program: Program, accepts: (value: unknown) => value is T, expected: string): T | undefined => {
    const value = run(program, bindings);
    if (!value.ok) errors.push(`${at}: ${value.error}`);
    else if (accepts(value.value)) return value.value;
    else errors.push(`${at}: expected ${expected}`);
    return undefined;
  };
  if (filter.match && evaluate('match', filter.match, (value) => typeof value === 'boolean', 'a bool') === false) return { filtered: true, errors };
  const severity = filter.severity && evaluate('severity', filter.severity, isSeverity, `one of ${SEVERITIES.join(', ')}`);
  const labels: Labels = {};
  for (const [name, program] of filter.labels) {
    const value = evaluate(`labels.${name}`, program, isLabelValue, 'a string, number or bool');
    if (value !== undefined) labels[name] = String(value).slice(0, MAX_LABEL_VALUE_LENGTH);
  }
  return { filtered: false, severity: severity || undefined, labels, errors };
}

/** The evaluator returns errors as values; anything it throws (a bug of its own) is an error all the same. */
function run(program: Program, bindings: Parameters<Program>[0]): Result<unknown, string> {
  try {
    const value = program(bindings);
    return isCelError(value) ? err(value.message) : ok(value);
  } catch (error) {
    return err((error as Error).message);
  }
}

const isSeverity = (value: unknown): value is Severity => typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
const isLabelValue = (value: unknown): value is string | number | bigint | boolean =>
  ['string', 'number', 'bigint', 'boolean'].includes(typeof value) && value !== '';

/** The incident as an expression sees it: the read API's field names, before it has an id. */
function incidentView(draft: IncidentDraft, source: string) {
  return {
    source,
    format: draft.format,
    event_type: draft.eventType,
    title: draft.title,
    severity: draft.severity,
    vendor_severity: draft.vendorSeverity,
    incident_type: draft.incidentType,
    occurred_at: draft.occurredAt,
    external_id: draft.externalId,
    observables: draft.observables,
    mitre: draft.mitre,
  };
}
