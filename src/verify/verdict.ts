/** What a verification profile concludes about a request. Pure data: the route turns failures into 401s. */
export type Verdict = { ok: true } | { ok: false; code: 'invalid_signature' | 'invalid_timestamp' | 'timestamp_expired'; message: string };

export const VERIFIED: Verdict = { ok: true };

/**
 * A signature failure, saying which check failed (the header is missing, malformed, or matches no
 * secret) so a sender's developer can fix it; nothing about the secrets themselves is said.
 */
export function signatureFailed(reason: string): Verdict {
  return { ok: false, code: 'invalid_signature', message: `Webhook signature verification failed: ${reason}` };
}

/** The last check: the header is well-formed, and no secret (current or previous) made it. */
export function noSecretMatched(header: string, signed: string, note?: string): Verdict {
  return signatureFailed(`${header} matches none of the source's secrets (it must be the HMAC-SHA256 of ${signed} with the secret${note ? `, ${note}` : ''})`);
}
