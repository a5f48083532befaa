import { SocklabError, messageOf } from '../errors.js';
import { FrameDecoder } from '../protocols/framing-decoder.js';
import { describeCodec, encodeMessage, makeFraming, type Framing } from '../protocols/framing.js';
import { formatBytes } from '../render/units.js';

/** What a framed stream tells its endpoint; kept small so any kind (a socket, a relay's direction) can use it. */
export interface FramedHooks {
  /** A message is complete: its payload, a view of the chunk (copy it to keep it). */
  message(data: Buffer): void;
  /** The peer passed `--max-message`: report `error` and close; no message follows. */
  overLimit(error: SocklabError): void;
  /** Tell the person watching (a reply that could not be framed). */
  note(message: string): void;
}

/**
 * The framed data path of one direction of a stream (SPEC 12): chunks in,
 * messages out, and the framing of what is sent back. A plain object, no
 * I/O: the endpoint feeds it its chunks and writes what `encode` returns.
 */
export class FramedStream {
  private readonly decoder: FrameDecoder;
  /** Messages completed so far. */
  messages = 0;
  private broken = false;
  private replyRefused = false;

  constructor(
    readonly framing: Framing,
    private readonly hooks: FramedHooks,
  ) {
    this.decoder = new FrameDecoder(framing);
  }

  /** The `--frame` name (`len16`, `delim:00`). */
  get name(): string {
    return this.framing.codec.name;
  }

  /** Bytes received of a message not complete yet. */
  get waiting(): number {
    return this.decoder.waiting;
  }

  /** Feed one received chunk. Past the limit it reports once and ignores the rest. */
  push(chunk: Buffer): void {
    if (this.broken) return;
    try {
      this.decoder.push(chunk, this.onMessage);
    } catch (err) {
      this.broken = true;
      this.hooks.overLimit(err instanceof SocklabError ? err : new SocklabError('E_LIMIT', messageOf(err), { cause: err }));
    }
  }

  private readonly onMessage = (data: Buffer): void => {
    this.messages++;
    this.hooks.message(data);
  };

  /** One message framed for sending (`.send`). Throws `E_BAD_PAYLOAD` when it cannot be framed (see encodeMessage). */
  encode(message: Buffer): Buffer {
    return encodeMessage(this.framing.codec, message);
  }

  /**
   * A reply (`--reply`) framed as one message, or undefined when it cannot be
   * (a template that adds the delimiter): said once in a note, not sent.
   */
  encodeReply(reply: Buffer): Buffer | undefined {
    try {
      return this.encode(reply);
    } catch (err) {
      if (!this.replyRefused) {
        this.replyRefused = true;
        this.hooks.note(`reply not sent: ${messageOf(err).replace(/, or use \.send --raw$/, '')} (replies on a framed socket are framed as one message each; said once)`);
      }
      return undefined;
    }
  }

  /** For `.show`: the codec, the limit, the messages, the bytes waiting for a message to complete. */
  describe(): string {
    const expected = this.decoder.expected;
    const waiting = this.waiting === 0 ? 'none waiting' : `${formatBytes(this.waiting)}${expected === undefined ? '' : ` of ${formatBytes(expected)}`} waiting for a message to complete`;
    return `${describeCodec(this.framing.codec)}, max message ${formatBytes(this.framing.maxMessage)}; ${this.messages} message${this.messages === 1 ? '' : 's'} received, ${waiting}`;
  }

  /** A note for a stream that ended inside a message (at the peer's FIN or the close), or undefined. */
  unfinished(when: string): string | undefined {
    if (this.broken || this.waiting === 0) return undefined;
    return `${when} with ${formatBytes(this.waiting)} of an unfinished ${this.name} message, never shown as a message`;
  }
}

/** `--frame SPEC` and `--max-message N` once parsed, or undefined when no framing was asked for. Throws `E_BAD_OPTION`. */
export function framingOf(options: { frame?: string; maxMessage?: number }): Framing | undefined {
  if (options.frame === undefined) {
    if (options.maxMessage !== undefined) throw new SocklabError('E_BAD_OPTION', '--max-message needs --frame SPEC: it is the largest framed message');
    return undefined;
  }
  return makeFraming(options.frame, options.maxMessage);
}

/** `--frame` with `--http` makes no sense: HTTP has its own framing. Throws `E_BAD_OPTION`. */
export function checkFrameOptions(options: { frame?: string; http?: boolean }): void {
  if (options.frame !== undefined && options.http === true) {
    throw new SocklabError('E_BAD_OPTION', '--frame does not apply to --http: HTTP frames its own messages (headers, Content-Length, chunks); leave one out');
  }
}

/**
 * `.sendln` on a `line`/`crlf` socket: the end-of-line it appended is what
 * ends a line message, so the message is the payload without it (the framing
 * adds `\n` or `\r\n` back): one message, the same bytes as `.send`.
 */
function withoutLineEnd(frame: string, data: Buffer, eol: Buffer | undefined): Buffer {
  if (eol === undefined || (frame !== 'line' && frame !== 'crlf')) return data;
  return data.subarray(0, data.length - eol.length);
}

/**
 * What one `.send` writes to each endpoint: the payload framed as one message
 * for each framed endpoint (unless `raw`), as it is for the others. Every
 * framing is done before anything is written, so a payload that cannot be
 * framed for one target is refused for all.
 */
export function framedSends<E extends { frame?: FramedStream | undefined }>(eps: E[], data: Buffer, raw: boolean, eol?: Buffer): Array<[E[], Buffer]> {
  const byFrame = new Map<string, [E[], Buffer]>();
  for (const ep of eps) {
    const key = raw || ep.frame === undefined ? '' : ep.frame.name;
    let group = byFrame.get(key);
    if (group === undefined) byFrame.set(key, (group = [[], key === '' ? data : (ep.frame as FramedStream).encode(withoutLineEnd(key, data, eol))]));
    group[0].push(ep);
  }
  return [...byFrame.values()];
}
