/**
 * HTTP/1.1 responses serialized for `.listen --http` (RFC 9110, RFC 9112):
 * status line, framing headers, body, with the bodiless cases (HEAD, 1xx,
 * 204, 304) right. No I/O.
 */
import { SocklabError } from '../errors.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const REASONS: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted',
  204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
  304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 411: 'Length Required', 413: 'Content Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 417: 'Expectation Failed', 426: 'Upgrade Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** The reason phrase for a status code (RFC 9110 names: 200 OK, 413 Content Too Large, …); '' when unknown. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

/** RFC 9110 §6.4.1: 1xx, 204 and 304 responses never carry content. */
function statusHasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * Serializes an HTTP/1.1 response: status line, `Content-Type` (default
 * `text/plain; charset=utf-8`), `Content-Length`, `Connection: keep-alive` or
 * `close` (`keepAlive` defaults to true), any extra `headers`, blank line, body.
 * No `Date` header, so the bytes are deterministic.
 *
 * `head: true` answers a HEAD request (RFC 9110 §9.3.2): the same header
 * fields, Content-Length included, as GET would get, and no body. A 1xx or
 * 204 response has only the status line and `headers` (no Content-Type,
 * Content-Length or Connection, RFC 9110 §8.6, RFC 9112 §6.3), a 304 no body;
 * a non-empty body for them throws `E_BAD_OPTION`. Framing headers
 * (Content-Length, Connection, Transfer-Encoding) are ours: passing them in
 * `headers` throws `E_BAD_OPTION`, as does a name or value that would break the head.
 */
export function formatResponse(
  status: number,
  body: Buffer,
  options?: { keepAlive?: boolean; contentType?: string; headers?: Array<[string, string]>; head?: boolean },
): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new SocklabError('E_BAD_OPTION', `bad HTTP status ${status}: expected an integer from 100 to 999`);
  }
  const bodiless = statusHasNoBody(status);
  if (bodiless && body.length > 0) {
    throw new SocklabError('E_BAD_OPTION', `an HTTP ${status} response has no body, but ${body.length} B were given`);
  }
  const fields: Array<[string, string]> =
    status < 200 || status === 204
      ? []
      : [
          ['Content-Type', options?.contentType ?? 'text/plain; charset=utf-8'],
          ['Content-Length', String(body.length)],
          ['Connection', options?.keepAlive === false ? 'close' : 'keep-alive'],
        ];
  for (const [name, value] of options?.headers ?? []) {
    if (/^(content-length|connection|transfer-encoding)$/i.test(name)) {
      throw new SocklabError('E_BAD_OPTION', `header "${name}" is set by formatResponse itself`);
    }
    fields.push([name, value]);
  }
  const lines = [`HTTP/1.1 ${status} ${reasonPhrase(status)}`];
  for (const [name, value] of fields) {
    if (!TOKEN.test(name) || !/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) {
      throw new SocklabError('E_BAD_OPTION', `bad response header ${JSON.stringify(`${name}: ${value}`)}`);
    }
    lines.push(`${name}: ${value}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (options?.head === true || bodiless) return head;
  return Buffer.concat([head, body], head.length + body.length);
}
