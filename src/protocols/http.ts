/**
 * HTTP/1.x requests parsed from the raw bytes of a TCP socket, and responses
 * serialized back, for `.listen --http`. Protocol logic only, no I/O: feed
 * bytes, get requests out. We do not use `node:http` because socklab shows
 * every byte the peer sends and must parse exactly those bytes.
 */
import { ByteAccumulator } from './http-bytes.js';
import { type BodyDecoder, ChunkedBodyDecoder, LengthBodyDecoder, bad, bodyFraming, clip, listOf } from './http-chunked.js';

/** One complete request. Header names keep the case the peer sent; text is latin1 (one char per byte). */
export interface HttpRequest {
  method: string;
  /** The request-target as sent: `/path?query`, `*`, or an absolute URL. */
  target: string;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  version: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Whether the connection stays open after the response (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`). */
  keepAlive: boolean;
}

/** A request, or a terminal error to answer with `status` and then close the connection. */
export type HttpParseResult =
  | { kind: 'request'; request: HttpRequest }
  /** An HTTP/1.1 head asked `Expect: 100-continue`: answer `100 Continue` now, the body follows. */
  | { kind: 'continue' }
  | { kind: 'error'; status: 400 | 413 | 414 | 431 | 501 | 505; message: string }
  /**
   * Bytes that arrived after the last request the connection may carry and
   * were not parsed (RFC 9112 §9.6): after one with `Connection: close`, from
   * the byte after it; after an error, the chunks that came after the one
   * holding the error (the rest of that chunk is part of the bad request).
   */
  | { kind: 'ignored'; bytes: number; after: 'close' | 'error' };

/** What a parser holds of a request that has not completed: part of a head, or part of a body. */
export type PendingRequest =
  | { part: 'head'; bytes: number; start: Buffer }
  | { part: 'body'; method: string; target: string; received: number; expected?: number };

type ErrorStatus = Extract<HttpParseResult, { kind: 'error' }>['status'];

const LF = 0x0a;
const CR = 0x0d;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const EMPTY = Buffer.alloc(0);

/**
 * Incremental HTTP/1.x request parser for one connection. `push()` returns
 * every complete request (or a terminal error) the bytes completed, in order;
 * after an error it returns nothing more. After a request whose `keepAlive`
 * is false it also returns nothing more: RFC 9112 §9.6 forbids processing
 * further requests on that connection.
 *
 * Accepts CRLF and bare LF line endings and skips empty lines before a request
 * line. Deliberately lenient for a playground: a missing `Host` is accepted.
 */
export class HttpRequestParser {
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;
  private state: 'head' | 'body' | 'done' = 'head';
  private doneAfter: 'close' | 'error' = 'close';
  private readonly head = new ByteAccumulator();
  // No LF of the head seen yet: its bytes are the request line.
  private inRequestLine = true;
  // Where the header-terminator scan stands: 0 in a line, 1 after LF, 2 after LF CR.
  private newline: 0 | 1 | 2 = 0;
  private pendingRequest: HttpRequest | undefined;
  private body: BodyDecoder | undefined;

  /** Limits default to 16 KiB of header section and 8 MiB of body. */
  constructor(limits?: { maxHeaderBytes?: number; maxBodyBytes?: number }) {
    this.maxHeaderBytes = limits?.maxHeaderBytes ?? 16 * 1024;
    this.maxBodyBytes = limits?.maxBodyBytes ?? 8 * 1024 * 1024;
  }

  /**
   * Feeds the next bytes of the stream. Until a body completes the parser
   * holds views into the chunks that carried it (no copy on the hot path), so
   * do not overwrite them; Node's socket chunks are never reused.
   */
  push(chunk: Buffer): HttpParseResult[] {
    const out: HttpParseResult[] = [];
    let data = chunk;
    while (data.length > 0 && this.state !== 'done') {
      data = this.state === 'head' ? this.readHead(data, out) : this.readBody(data, out);
    }
    if (data.length > 0) out.push({ kind: 'ignored', bytes: data.length, after: this.doneAfter });
    return out;
  }

  /** The request in progress, if any bytes of one arrived (`start`: up to 80 bytes of its head). */
  pending(): PendingRequest | undefined {
    if (this.state === 'head' && this.head.length > 0) {
      return { part: 'head', bytes: this.head.length, start: Buffer.from(this.head.peek().subarray(0, 80)) };
    }
    if (this.state !== 'body' || this.pendingRequest === undefined || this.body === undefined) return undefined;
    const { method, target } = this.pendingRequest;
    return { part: 'body', method, target, ...this.body.progress() };
  }

  private readHead(data: Buffer, out: HttpParseResult[]): Buffer {
    let start = 0;
    if (this.head.length === 0) {
      while (data[start] === CR || data[start] === LF) start++;
      if (start === data.length) return EMPTY;
    }
    const end = this.findHeadEnd(data, start);
    const stop = end < 0 ? data.length : end;
    if (this.head.length + stop - start > this.maxHeaderBytes) {
      // RFC 9112 §3: a request line too long to parse is 414 URI Too Long.
      const lf = this.inRequestLine ? data.indexOf(LF, start) : -1;
      const lineBytes = this.head.length + (lf < 0 ? stop : lf) - start;
      return this.inRequestLine && lineBytes > this.maxHeaderBytes
        ? this.fail(out, 414, `request line exceeds the limit of ${this.maxHeaderBytes} bytes`)
        : this.fail(out, 431, `header section exceeds the limit of ${this.maxHeaderBytes} bytes`);
    }
    if (this.inRequestLine && data.subarray(start, stop).includes(LF)) this.inRequestLine = false;
    // Copied into one growing buffer: a head trickled byte by byte costs no object per byte.
    this.head.append(data, start, stop);
    if (end < 0) return EMPTY;
    const head = this.head.take().toString('latin1');
    this.newline = 0;
    this.inRequestLine = true;
    const parsed = parseHead(head, this.maxBodyBytes);
    if ('status' in parsed) return this.fail(out, parsed.status, parsed.message);
    this.pendingRequest = parsed.request;
    if (parsed.framing === 0) {
      this.emit(out, EMPTY);
      return data.subarray(end);
    }
    this.body =
      parsed.framing === 'chunked'
        ? new ChunkedBodyDecoder({ maxBodyBytes: this.maxBodyBytes, maxTrailerBytes: this.maxHeaderBytes })
        : new LengthBodyDecoder(parsed.framing);
    this.state = 'body';
    // curl asks before a large upload and waits a second for this answer;
    // RFC 9110 §10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request.
    if (parsed.request.version === 'HTTP/1.1' && expectsContinue(parsed.request.headers)) out.push({ kind: 'continue' });
    return data.subarray(end);
  }

  /** The offset just after the blank line ending the head, or -1; the scan state carries across chunks. */
  private findHeadEnd(data: Buffer, from: number): number {
    let i = from;
    while (i < data.length) {
      if (this.newline === 0) {
        const lf = data.indexOf(LF, i);
        if (lf < 0) return -1;
        this.newline = 1;
        i = lf + 1;
        continue;
      }
      if (data[i] === LF) return i + 1;
      const cr = data[i] === CR && this.newline === 1;
      this.newline = cr ? 2 : 0;
      if (cr) i++;
    }
    return -1;
  }

  private readBody(data: Buffer, out: HttpParseResult[]): Buffer {
    const step = this.body?.push(data) ?? { kind: 'more' };
    if (step.kind === 'more') return EMPTY;
    if (step.kind === 'error') return this.fail(out, step.status, step.message);
    this.body = undefined;
    this.emit(out, step.body);
    return data.subarray(step.consumed);
  }

  private emit(out: HttpParseResult[], body: Buffer): void {
    const request = this.pendingRequest;
    if (request === undefined) return;
    request.body = body;
    this.pendingRequest = undefined;
    out.push({ kind: 'request', request });
    this.state = request.keepAlive ? 'head' : 'done';
  }

  private fail(out: HttpParseResult[], status: ErrorStatus, message: string): Buffer {
    out.push({ kind: 'error', status, message });
    this.state = 'done';
    this.doneAfter = 'error';
    this.head.clear();
    this.body = undefined;
    this.pendingRequest = undefined;
    return EMPTY;
  }
}

/** Whether the head has `Expect: 100-continue` (RFC 9110 §10.1.1; the value is case-insensitive). */
function expectsContinue(headers: Array<[string, string]>): boolean {
  return listOf(headers, 'expect').some((value) => value.toLowerCase() === '100-continue');
}

type Head = { request: HttpRequest; framing: number | 'chunked' } | { status: ErrorStatus; message: string };

/** Parses a complete header section (request line, fields, blank line) and decides how the body is framed. */
function parseHead(text: string, maxBodyBytes: number): Head {
  const lines = text.split('\n').slice(0, -2).map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const requestLine = lines[0] ?? '';
  const parts = requestLine.split(' ');
  const [method = '', target = '', version = ''] = parts;
  if (parts.length !== 3 || !TOKEN.test(method) || !TARGET.test(target) || !/^HTTP\/\d+(\.\d+)?$/.test(version)) {
    return bad(`bad request line "${clip(requestLine)}": expected METHOD TARGET HTTP/1.1`);
  }
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
    return { status: 505, message: `HTTP version "${clip(version)}" not supported: expected HTTP/1.0 or HTTP/1.1` };
  }
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      return bad(`obsolete line folding (a header line starting with whitespace) is not allowed: "${clip(line)}"`);
    }
    const colon = line.indexOf(':');
    if (colon < 0) return bad(`bad header line "${clip(line)}": expected NAME: VALUE`);
    const name = line.slice(0, colon);
    if (/[ \t]$/.test(name)) return bad(`whitespace before the colon in header "${clip(name)}" is not allowed`);
    if (!TOKEN.test(name)) return bad(`bad header name "${clip(name)}": expected a token`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (/[\0-\x08\x0a-\x1f\x7f]/.test(value)) return bad(`control character in the value of header "${clip(name)}"`);
    headers.push([name, value]);
  }
  const framing = bodyFraming(headers, version, maxBodyBytes);
  if (typeof framing === 'object') return framing;
  const connection = listOf(headers, 'connection').map((token) => token.toLowerCase());
  const keepAlive =
    !connection.includes('close') && (version === 'HTTP/1.1' || connection.includes('keep-alive'));
  return { request: { method, target, version, headers, body: EMPTY, keepAlive }, framing };
}

export { formatResponse, reasonPhrase } from './http-response.js';
