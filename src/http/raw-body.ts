import getRawBody from 'raw-body';
import type { IncomingMessage } from 'node:http';
import { DomainError } from '../core/errors.js';

/**
 * Reads the body as the exact bytes sent (the HMAC covers them), refusing early on Content-Length
 * and again while streaming when a chunked sender goes past the limit.
 */
export async function readRawBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  refuseDeclaredOver(request, limitBytes);
  const declared = request.headers['content-length'];
  try {
    return await getRawBody(request, { limit: limitBytes, length: declared });
  } catch (error) {
    if ((error as { type?: string }).type === 'entity.too.large') throw payloadTooLarge(limitBytes);
    if ((error as { type?: string }).type === 'request.size.invalid') {
      throw new DomainError('bad_request', 'Request body length does not match Content-Length');
    }
    if ((error as { type?: string }).type === 'request.aborted') {
      throw new DomainError('bad_request', 'Request aborted by the client');
    }
    throw error;
  }
}

/** The early 413: a Content-Length over the limit is refused before anything is reserved or read. */
export function refuseDeclaredOver(request: IncomingMessage, limitBytes: number): void {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) throw payloadTooLarge(limitBytes);
}

/**
 * Reads and throws away what is left of a refused request's body, at most `maxBytes` and for at
 * most `maxMs`, so the sender has finished writing when the answer comes and reads it: closing on
 * a sender still writing resets the connection, and the sender never sees the answer (and
 * retries). Resolves true when the whole body arrived, false when a bound cut it short (the caller
 * then closes the connection).
 */
export function discardBody(request: IncomingMessage, maxBytes: number, maxMs: number): Promise<boolean> {
  if (request.readableEnded) return Promise.resolve(true);
  // A body declared longer than the bound would be cut anyway: close at once instead of reading it.
  if (Number(request.headers['content-length']) > maxBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    let discarded = 0;
    const finish = (whole: boolean) => {
      clearTimeout(timer);
      request.off('data', onData).off('end', onEnd).off('close', onClose);
      if (!whole) request.pause();
      resolve(whole);
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(request.complete);
    const timer = setTimeout(() => finish(false), maxMs);
    request.on('data', onData).once('end', onEnd).once('close', onClose);
    request.resume();
  });
}

function payloadTooLarge(limitBytes: number): DomainError {
  return new DomainError('payload_too_large', `Webhook body exceeds the source's limit of ${limitBytes} bytes`);
}
