import getRawBody from 'raw-body';
import type { IncomingMessage } from 'node:http';
import { DomainError } from '../core/errors.js';

/**
 * Reads the body as the exact bytes sent (the HMAC covers them), refusing early on Content-Length
 * and again while streaming when a chunked sender goes past the limit.
 */
export async function readRawBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) throw payloadTooLarge(limitBytes);
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

function payloadTooLarge(limitBytes: number): DomainError {
  return new DomainError('payload_too_large', `Webhook body exceeds the source's limit of ${limitBytes} bytes`);
}
