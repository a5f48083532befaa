/**
 * One `--http` connection: parses the requests a socket receives, answers
 * each with the reply template's body, and tells the person watching what
 * happened — with the work and memory per connection bounded whatever the
 * peer sends:
 * - answers to one chunk's requests go out as one write, and reading stops
 *   while they are not drained (backpressure, as `pipe()` does);
 * - one note per request, folded into one summary line per second under a
 *   flood (as data events fold);
 * - a request left incomplete at FIN or close, and bytes after the last
 *   request the connection may carry, are said in a note and in `.show`.
 */
import { formatBytes, formatCount } from '../render/units.js';
import { escapeBytes } from '../render/escape.js';
import { clip } from '../protocols/http-chunked.js';
import { HttpRequestParser, formatResponse, type HttpRequest, type PendingRequest } from '../protocols/http.js';
import type { Replier, ReplySpec, ReplyTarget } from './reply.js';

/** Request notes of one connection shown per second before they fold into a summary. */
export const HTTP_NOTES_BEFORE_FOLD = 20;
/** How often a folded flood of requests prints its summary, ms. */
export const HTTP_FOLD_INTERVAL_MS = 1000;

const CONTINUE = formatResponse(100, Buffer.alloc(0));
const connections = new WeakMap<Replier, HttpConnection>();

/**
 * The reply function of an `--http` socket: the template builds the body of
 * the response to each request (with no template the body is echoed).
 */
export function httpReplier(spec: ReplySpec, target: ReplyTarget): Replier {
  const connection = new HttpConnection(spec, target);
  const replier: Replier = (chunk) => connection.receive(chunk);
  connections.set(replier, connection);
  return replier;
}

/**
 * Tell an `--http` socket's reply function that the peer sent FIN (`'fin'`)
 * or that the socket closed (`'close'`): a request left incomplete is said in
 * a note, a folded flood's summary printed. No-op for other reply functions.
 */
export function endHttpInput(reply: Replier | undefined, how: 'fin' | 'close'): void {
  if (reply !== undefined) connections.get(reply)?.inputEnded(how);
}

/**
 * What an `--http` socket's reply function has answered and holds, for
 * `.show`: `3 requests answered; pending: 5 of 200 B of the body of POST /up`.
 * Undefined for a socket that is not `--http`.
 */
export function describeHttpConnection(reply: Replier | undefined): string | undefined {
  return reply === undefined ? undefined : connections.get(reply)?.describe();
}

class HttpConnection {
  private readonly parser = new HttpRequestParser();
  private readonly notes: RequestNotes;
  private answered = 0;
  private ignored = 0;
  private reportedEnd = false;

  constructor(
    private readonly spec: ReplySpec,
    private readonly target: ReplyTarget,
  ) {
    this.notes = new RequestNotes(target);
  }

  receive(chunk: Buffer): void {
    const out: Buffer[] = [];
    let endAfter = false;
    for (const result of this.parser.push(chunk)) {
      if (result.kind === 'continue') {
        out.push(CONTINUE);
      } else if (result.kind === 'ignored') {
        if (this.ignored === 0) {
          const after = result.after === 'close' ? 'a request with Connection: close' : 'an error answer';
          this.target.note(`HTTP: ignoring bytes that follow ${after} (RFC 9112 §9.6: no more requests on this connection)`);
        }
        this.ignored += result.bytes;
      } else if (result.kind === 'error') {
        this.notes.flush();
        this.target.note(`HTTP ${result.status}: ${result.message}`, true);
        out.push(formatResponse(result.status, Buffer.from(`${result.message}\n`), { keepAlive: false }));
        endAfter = true;
      } else {
        out.push(this.answer(result.request));
        if (!result.request.keepAlive) endAfter = true;
      }
    }
    // One write per chunk, however many requests it carried; a full kernel
    // buffer stops reading until the peer has read our answers.
    if (out.length > 0 && !this.target.write(out.length === 1 ? out[0]! : Buffer.concat(out))) this.target.holdUntilDrain();
    if (endAfter) this.target.end();
  }

  private answer(request: HttpRequest): Buffer {
    const { spec, target } = this;
    const body = spec.kind === 'template' ? spec.template({ data: request.body, id: target.id, remote: target.remote }) : request.body;
    const head = request.method === 'HEAD';
    this.answered++;
    this.notes.request(request, body.length, head);
    return formatResponse(200, body, { keepAlive: request.keepAlive, head });
  }

  inputEnded(how: 'fin' | 'close'): void {
    if (how === 'close') this.notes.stop();
    if (this.reportedEnd) return;
    this.reportedEnd = true;
    const pending = this.parser.pending();
    if (pending === undefined) return;
    this.notes.flush();
    const ended = how === 'fin' ? 'the peer ended (FIN)' : 'the connection closed';
    this.target.note(`HTTP: ${ended} with an incomplete request, never answered: ${describePending(pending)}`);
  }

  describe(): string {
    const pending = this.parser.pending();
    const parts = [`${formatCount(this.answered)} request${this.answered === 1 ? '' : 's'} answered`];
    if (pending !== undefined) parts.push(`pending: ${describePending(pending)}`);
    if (this.ignored > 0) parts.push(`${formatBytes(this.ignored)} ignored after the last request`);
    return parts.join('; ');
  }
}

/** `5 of 200 B of the body of POST /up` or `7 B of a request head: "hello\r\n"`. */
function describePending(pending: PendingRequest): string {
  if (pending.part === 'head') {
    const more = pending.bytes > pending.start.length ? '…' : '';
    return (
      `${formatBytes(pending.bytes)} of a request head with no blank line after it yet: "${quoteBytes(pending.start)}${more}"` +
      ' (a body sent without Content-Length or chunked framing is read as the start of the next request)'
    );
  }
  const what = `the body of ${pending.method} ${quoteBytes(Buffer.from(pending.target, 'latin1').subarray(0, 80))}`;
  return pending.expected === undefined
    ? `${formatBytes(pending.received)} of ${what} (chunked; the last, zero-size chunk has not come)`
    : `${pending.received} of ${pending.expected} B of ${what} (Content-Length ${pending.expected})`;
}

/** Peer bytes shown as every data line shows them (escapeBytes: UTF-8, the rest escaped). */
function quoteBytes(bytes: Buffer): string {
  return escapeBytes(bytes).text;
}

/**
 * The per-request notes of one connection: the first HTTP_NOTES_BEFORE_FOLD
 * of a second one by one, the rest counted and summed up once a second —
 * no string is built for a folded request.
 */
class RequestNotes {
  private windowStart = 0;
  private windowCount = 0;
  private folded = { requests: 0, bodyBytes: 0, responseBytes: 0, since: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly target: ReplyTarget) {}

  request(request: HttpRequest, responseBytes: number, head: boolean): void {
    const now = performance.now();
    if (now - this.windowStart >= HTTP_FOLD_INTERVAL_MS) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (this.timer === undefined && ++this.windowCount <= HTTP_NOTES_BEFORE_FOLD) {
      const sent = head ? `headers only (HEAD; Content-Length ${responseBytes})` : `${responseBytes} B`;
      // Method and target are peer text of up to 16 KiB: cut, as every quote of the peer is.
      this.target.note(`HTTP ${clip(request.method)} ${clip(request.target)} (${request.body.length} B body) → 200, ${sent}`);
      return;
    }
    if (this.timer === undefined) {
      this.folded.since = now;
      this.timer = setInterval(() => this.tick(), HTTP_FOLD_INTERVAL_MS).unref();
    }
    this.folded.requests++;
    this.folded.bodyBytes += request.body.length;
    this.folded.responseBytes += head ? 0 : responseBytes;
  }

  /** Print the summary of the requests folded so far. */
  flush(): void {
    const { requests, bodyBytes, responseBytes, since } = this.folded;
    if (requests === 0) return;
    const now = performance.now();
    this.target.note(
      `HTTP ${formatCount(requests)} more requests answered in ${((now - since) / 1000).toFixed(1)} s ` +
        `(${formatBytes(bodyBytes)} of request bodies, ${formatBytes(responseBytes)} of response bodies; folded, one line a second)`,
    );
    this.folded = { requests: 0, bodyBytes: 0, responseBytes: 0, since: now };
  }

  /** Print what is folded and leave fold mode (the connection closed). */
  stop(): void {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    // A connection that went quiet for an interval shows its requests one by one again.
    if (this.folded.requests === 0) this.stop();
    else this.flush();
  }
}
