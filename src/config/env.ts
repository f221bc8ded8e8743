import { ConfigError } from './config-error.js';

/** Typed reads of the environment; every bad value is a ConfigError naming the variable. */
export interface EnvReader {
  /** The trimmed value; unset and blank are both undefined. */
  string: (name: string) => string | undefined;
  integer: (name: string, fallback: number, min: number, max: number) => number;
  oneOf: <T extends string>(name: string, fallback: T, allowed: readonly T[]) => T;
  boolean: (name: string, fallback: boolean) => boolean;
  /** `a, b,,c` → [a, b, c]: a comma-separated list with blanks dropped. */
  list: (name: string) => string[];
}

/** The one env reader: settings modules describe what they read, this says how. */
export function envReader(env: NodeJS.ProcessEnv): EnvReader {
  const string = (name: string) => {
    const raw = env[name]?.trim();
    return raw === '' ? undefined : raw;
  };
  return {
    string,
    integer(name, fallback, min, max) {
      const raw = string(name);
      if (raw === undefined) return fallback;
      const parsed = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
      if (!(parsed >= min && parsed <= max)) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
      return parsed;
    },
    oneOf(name, fallback, allowed) {
      const raw = string(name)?.toLowerCase();
      if (raw === undefined) return fallback;
      const match = allowed.find((value) => value === raw);
      if (match === undefined) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${raw}'`);
      return match;
    },
    boolean(name, fallback) {
      const raw = string(name)?.toLowerCase();
      if (raw === undefined) return fallback;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${name} must be true or false, got '${raw}'`);
    },
    list(name) {
      return (string(name) ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    },
  };
}
