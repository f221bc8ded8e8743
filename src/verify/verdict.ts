/** What a verification profile concludes about a request. Pure data: the route turns failures into 401s. */
export type Verdict = { ok: true } | { ok: false; code: 'invalid_signature' | 'invalid_timestamp' | 'timestamp_expired'; message: string };

export const VERIFIED: Verdict = { ok: true };

/** One message for every signature failure: which check failed is not the sender's business. */
export const SIGNATURE_FAILED: Verdict = {
  ok: false,
  code: 'invalid_signature',
  message: 'Webhook signature verification failed',
};
