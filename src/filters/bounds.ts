import type { parse } from '@bufbuild/cel';

type ParsedExpression = ReturnType<typeof parse>;
type Expr = ParsedExpression['expr'];

/**
 * What an expression may cost, decided before it is accepted (docs/filters.md): the CEL library
 * has no runtime cost limit, so, like Kubernetes estimating a CEL rule's cost at admission, the
 * tree is measured and refused when it exceeds a bound. Evaluation is then linear in the payload:
 * at most MAX_STEPS_PER_VALUE steps per JSON value of the payload plus MAX_FIXED_STEPS.
 */
export const MAX_NODES = 200;
export const MAX_DEPTH = 32;
/** Macros (all, exists, exists_one, map, filter) inside macros. */
export const MAX_MACRO_NESTING = 2;
export const MAX_STEPS_PER_VALUE = 64;
const MAX_FIXED_STEPS = 100_000;
/** What a list of the incident holds at most (observables per kind, MITRE ids): its lists are bounded by the incident schema. */
const INCIDENT_LIST_BOUND = 100;

/** How big a value can be: bounded, as big as the payload, or a part of the payload (an element of a macro over it). */
type Scale = { kind: 'bounded'; length: number } | { kind: 'payload' } | { kind: 'part' };

/**
 * Steps as `perValue × (JSON values in the payload) + fixed`; `perPart` is work proportional to a
 * part of the payload, which a macro over the payload adds up to at most the whole.
 */
interface Cost {
  perValue: number;
  perPart: number;
  fixed: number;
}

interface Scope {
  /** Variables in scope and the scale of what they hold. */
  variables: ReadonlyMap<string, Scale>;
  /** Enclosing macros. */
  nesting: number;
  /** Inside a macro over the payload or a part of it, where re-reading `payload` would be quadratic. */
  overPayload: boolean;
}

const ROOTS: ReadonlyMap<string, Scale> = new Map<string, Scale>([
  ['payload', { kind: 'payload' }],
  ['incident', { kind: 'bounded', length: INCIDENT_LIST_BOUND }],
]);
/** Type names a CEL expression may mention (`type(x) == string`). */
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type']);
/** Operators the evaluator implements itself rather than as functions. */
const BUILT_IN_OPERATORS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false']);
const LIST_BUILDING_MACROS = new Set(['map', 'filter']);

const ONE: Cost = { perValue: 0, perPart: 0, fixed: 1 };
const add = (...costs: Cost[]): Cost => ({
  perValue: costs.reduce((sum, cost) => sum + cost.perValue, 0),
  perPart: costs.reduce((sum, cost) => sum + cost.perPart, 0),
  fixed: costs.reduce((sum, cost) => sum + cost.fixed, 0),
});
const times = (count: number, cost: Cost): Cost => ({ perValue: count * cost.perValue, perPart: count * cost.perPart, fixed: count * cost.fixed });

class Refused extends Error {}

/** What the analysis asks of the evaluator, so an unknown function or a bad pattern is refused here rather than failing every event. */
export interface EvaluatorFacts {
  isFunction(name: string): boolean;
  /** Why the evaluator's regex engine refuses a `matches` pattern, or undefined. */
  patternProblem(pattern: string): string | undefined;
}

/** Why `parsed` is refused, or undefined when it is within every bound. */
export function boundsProblem(parsed: ParsedExpression, evaluator: EvaluatorFacts): string | undefined {
  const macros = new Map(
    Object.entries(parsed.sourceInfo?.macroCalls ?? {}).map(([id, call]) => [id, call.exprKind.case === 'callExpr' ? call.exprKind.value.function : '']),
  );
  let nodes = 0;

  const visit = (expr: Expr, scope: Scope, depth: number, countedOnly = false): { cost: Cost; scale: Scale } => {
    if (++nodes > MAX_NODES) throw new Refused(`the expression has more than ${MAX_NODES} nodes`);
    if (depth > MAX_DEPTH) throw new Refused(`the expression nests deeper than ${MAX_DEPTH} levels`);
    const child = (next: Expr, inner = scope, counted = false) => visit(next, inner, depth + 1, counted);
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'constExpr':
        return { cost: ONE, scale: { kind: 'bounded', length: 1 } };
      case 'identExpr': {
        const { name } = kind.value;
        const scale = scope.variables.get(name);
        if (scale === undefined) {
          if (TYPE_NAMES.has(name)) return { cost: ONE, scale: { kind: 'bounded', length: 1 } };
          throw new Refused(`undeclared reference to '${name}' (the variables are payload and incident)`);
        }
        if (name === 'payload' && scope.overPayload) {
          throw new Refused(
            'a macro over the payload reads payload again, which costs the payload size for each of its elements: reach it through the macro variable',
          );
        }
        return { cost: ONE, scale };
      }
      case 'selectExpr': {
        const operand = child(kind.value.operand!);
        return { cost: add(operand.cost, ONE), scale: operand.scale };
      }
      case 'listExpr': {
        const elements = kind.value.elements.map((element) => child(element));
        return { cost: add(ONE, ...elements.map((element) => element.cost)), scale: { kind: 'bounded', length: elements.length } };
      }
      case 'structExpr': {
        const entries = kind.value.entries.flatMap((entry) => [...(entry.keyKind.case === 'mapKey' ? [entry.keyKind.value] : []), entry.value!]);
        return { cost: add(ONE, ...entries.map((entry) => child(entry).cost)), scale: { kind: 'bounded', length: kind.value.entries.length } };
      }
      case 'callExpr': {
        const { function: name, target, args } = kind.value;
        if (!BUILT_IN_OPERATORS.has(name) && !evaluator.isFunction(name)) throw new Refused(`unknown function '${name}'`);
        if (name === 'matches') {
          const pattern = args[0]?.exprKind;
          if (pattern?.case !== 'constExpr' || pattern.value.constantKind.case !== 'stringValue') {
            throw new Refused('matches() takes its pattern as a string literal, so that it is checked once, here');
          }
          const problem = evaluator.patternProblem(pattern.value.constantKind.value);
          if (problem !== undefined) throw new Refused(`matches(): ${problem}`);
        }
        const counted = name === 'size';
        const operands = [...(target ? [target] : []), ...args].map((operand) => child(operand, scope, counted));
        // A function may read each operand whole (`in` walks a list, `contains` a string, `==` both sides).
        const cost = add(ONE, ...operands.map((operand) => add(operand.cost, read(operand.scale))));
        return { cost, scale: { kind: 'bounded', length: 1 } };
      }
      case 'comprehensionExpr': {
        const comprehension = kind.value;
        const macro = macros.get(String(expr.id)) ?? '';
        if (LIST_BUILDING_MACROS.has(macro) && !countedOnly) {
          throw new Refused(`the list ${macro}() builds may only be counted with size(): the evaluator walks it once per element`);
        }
        if (scope.nesting + 1 > MAX_MACRO_NESTING) throw new Refused(`macros nest deeper than ${MAX_MACRO_NESTING} levels`);
        for (const variable of [comprehension.iterVar, comprehension.iterVar2].filter(Boolean)) {
          if (ROOTS.has(variable)) throw new Refused(`the macro variable '${variable}' would hide the ${variable} variable`);
        }
        const range = child(comprehension.iterRange!);
        const overPayload = range.scale.kind !== 'bounded';
        const element: Scale = overPayload ? { kind: 'part' } : { kind: 'bounded', length: INCIDENT_LIST_BOUND };
        const variables = new Map(scope.variables);
        for (const variable of [comprehension.iterVar, comprehension.iterVar2].filter(Boolean)) variables.set(variable, element);
        variables.set(comprehension.accuVar, range.scale);
        const inner: Scope = { variables, nesting: scope.nesting + 1, overPayload: scope.overPayload || overPayload };
        const once = add(range.cost, child(comprehension.accuInit!).cost, child(comprehension.result!, inner).cost);
        const step = add(child(comprehension.loopCondition!, inner).cost, child(comprehension.loopStep!, inner).cost);
        // Over the payload a step runs at most once per value, and the parts its elements hold add up
        // to the payload; over a part, to that part; over a bounded range, as often as it is long.
        const loops: Cost =
          range.scale.kind === 'payload'
            ? { perValue: step.fixed + step.perPart, perPart: 0, fixed: 0 }
            : range.scale.kind === 'part'
              ? { perValue: 0, perPart: step.fixed + step.perPart, fixed: 0 }
              : times(range.scale.length, step);
        return { cost: add(once, loops), scale: LIST_BUILDING_MACROS.has(macro) ? range.scale : { kind: 'bounded', length: 1 } };
      }
      default:
        throw new Refused('the expression is empty');
    }
  };

  try {
    const { cost } = visit(parsed.expr, { variables: ROOTS, nesting: 0, overPayload: false }, 1);
    if (cost.perValue > MAX_STEPS_PER_VALUE) {
      return `the expression's estimated cost is ${cost.perValue} steps per value of the payload, more than ${MAX_STEPS_PER_VALUE}`;
    }
    if (cost.fixed > MAX_FIXED_STEPS) return `the expression's estimated cost is ${cost.fixed} steps, more than ${MAX_FIXED_STEPS}`;
    return undefined;
  } catch (error) {
    if (error instanceof Refused) return error.message;
    throw error;
  }
}

/** What reading a value whole costs: its length when bounded, else a step per value (or character) of the payload or its part. */
function read(scale: Scale): Cost {
  if (scale.kind === 'bounded') return { perValue: 0, perPart: 0, fixed: scale.length };
  return scale.kind === 'payload' ? { perValue: 1, perPart: 0, fixed: 0 } : { perValue: 0, perPart: 1, fixed: 0 };
}
