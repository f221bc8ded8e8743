import type { Verdict } from './verdict.js';

/** Unix seconds as ASCII digits only: no sign, fraction, exponent or spaces; 15 digits stay exact in a double. */
const UNIX_SECONDS = /^[0-9]{1,15}$/;

/**
 * The timestamp checks of docs/api.md (the webhook route), in the table's order. Boundaries: a timestamp exactly
 * `toleranceSeconds` old (or ahead) is accepted; one second more is rejected.
 * Returns undefined when the timestamp is acceptable.
 */
export function checkTimestamp(value: string | undefined, headerName: string, nowSeconds: number, toleranceSeconds: number): Verdict | undefined {
  if (value === undefined || value.trim() === '') return { ok: false, code: 'invalid_timestamp', message: `the ${headerName} header is missing` };
  if (!UNIX_SECONDS.test(value)) return { ok: false, code: 'invalid_timestamp', message: `${headerName} must be a Unix time in whole seconds` };
  const timestamp = Number(value);
  // Date.now() sent as is: within the tolerance once divided by 1000.
  if (Math.abs(Math.floor(timestamp / 1000) - nowSeconds) <= toleranceSeconds) {
    return { ok: false, code: 'invalid_timestamp', message: `${headerName} is in milliseconds: send whole seconds (${Math.floor(timestamp / 1000)})` };
  }
  if (nowSeconds - timestamp > toleranceSeconds) {
    return { ok: false, code: 'timestamp_expired', message: `Webhook timestamp is too old (>${describeTolerance(toleranceSeconds)})` };
  }
  if (timestamp - nowSeconds > toleranceSeconds) {
    return { ok: false, code: 'invalid_timestamp', message: `Webhook timestamp is too far in the future (>${describeTolerance(toleranceSeconds)})` };
  }
  return undefined;
}

/**
 * The tolerance as the spec words it ("5 minutes"): whole minutes when it divides evenly
 * (300 → "5 minutes", 3600 → "60 minutes"), seconds otherwise (90 → "90 seconds").
 */
export function describeTolerance(seconds: number): string {
  return seconds % 60 === 0 ? plural(seconds / 60, 'minute') : plural(seconds, 'second');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
