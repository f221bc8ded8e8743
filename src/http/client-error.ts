import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../core/errors.js';
import { ERROR_STATUS } from './error-status.js';

/** The methods some route serves: the `Allow` of a request whose method node's parser does not know. */
const SERVED_METHODS = 'GET, HEAD, POST';

interface Rejection {
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/** node's parser (llhttp) error codes → what the sender is told. */
function rejection(errorCode: string | undefined): Rejection {
  switch (errorCode) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', message: 'Request headers are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'The request was not received in time' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { code: 'bad_request', message: 'Conflicting Content-Length or Transfer-Encoding headers' };
    case 'HPE_INVALID_CONTENT_LENGTH':
      return { code: 'bad_request', message: 'Malformed or conflicting Content-Length' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { code: 'bad_request', message: 'Malformed Transfer-Encoding, or sent with Content-Length' };
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
    case 'HPE_INVALID_EOF_STATE':
      return { code: 'bad_request', message: 'Malformed chunked body' };
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return { code: 'bad_request', message: 'Malformed request header' };
    case 'HPE_INVALID_URL':
      return { code: 'bad_request', message: 'Malformed request target (the path must be ASCII, percent-encoded)' };
    case 'HPE_INVALID_METHOD':
      return { code: 'method_not_allowed', message: 'Unsupported request method', headers: { Allow: SERVED_METHODS } };
    default:
      return { code: 'bad_request', message: 'Malformed HTTP request' };
  }
}

/**
 * The server's `clientError` handler: requests node's parser rejects (or that time out) are
 * answered in the contract's envelope instead of node's bare status line, then the connection is
 * closed (the parser cannot resynchronize). Nothing is written when the socket is gone or a response
 * on it has already started.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const { code, message, headers = {} } = rejection(error.code);
  const status = ERROR_STATUS[code];
  const body = JSON.stringify({ error: { code, message } });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
