import { err, ok, type Result } from '../core/result.js';

/** `$${` is a literal `${`; `${NAME}` is a variable; `${` without `}` is a mistake worth reporting. */
const REFERENCE = /\$\$\{|\$\{([^}]*)(\})?/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands `${VAR}` in every string value of a parsed document (keys are left alone). An unset
 * variable is an error naming it and where it is used, e.g. `sources.edr.secret: environment
 * variable EDR_SECRET is not set`; all such problems are reported together.
 */
export function expandVariables(document: unknown, env: NodeJS.ProcessEnv): Result<unknown, string[]> {
  const problems: string[] = [];
  const expanded = expandValue(document, '', env, problems);
  return problems.length > 0 ? err(problems) : ok(expanded);
}

function expandValue(value: unknown, path: string, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (typeof value === 'string') return expandString(value, path, env, problems);
  if (Array.isArray(value)) return value.map((item, index) => expandValue(item, `${path}[${index}]`, env, problems));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays a key and never a prototype.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandValue(item, path ? `${path}.${key}` : key, env, problems)]));
  }
  return value;
}

function expandString(text: string, path: string, env: NodeJS.ProcessEnv, problems: string[]): string {
  return text.replace(REFERENCE, (match, name: string | undefined, closed: string | undefined) => {
    if (match === '$${') return '${';
    if (closed === undefined || name === undefined || !VARIABLE_NAME.test(name)) {
      // Not echoing the text: it may be part of a secret.
      problems.push(`${path}: invalid variable reference (write \${NAME}, or $\${ for a literal \${)`);
      return match;
    }
    const resolved = env[name];
    if (resolved === undefined) {
      problems.push(`${path}: environment variable ${name} is not set`);
      return match;
    }
    return resolved;
  });
}
