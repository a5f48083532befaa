import { SocklabError } from '../errors.js';
import { compileTemplate, type Template } from '../protocols/template.js';
import { httpReplier } from './http-connection.js';

/** What a socket does with the bytes it receives. */
export type ReplySpec =
  | { kind: 'none' }
  | { kind: 'discard' }
  | { kind: 'echo' }
  | { kind: 'template'; source: string; template: Template };

/** Parse a `--reply` value. Templates are compiled once, here. */
export function parseReply(source: string): ReplySpec {
  switch (source) {
    case 'none':
    case '':
      return { kind: 'none' };
    case 'discard':
      return { kind: 'discard' };
    case 'echo':
      return { kind: 'echo' };
    default:
      return { kind: 'template', source, template: compileTemplate(source) };
  }
}

/** True when the answer is the chunk as received: `echo`, or the template `{data}` alone. */
export function echoesInput(spec: ReplySpec): boolean {
  return spec.kind === 'echo' || (spec.kind === 'template' && spec.source === '{data}');
}

/** Called with every chunk a socket receives; writes the answer, if any. */
export type Replier = (chunk: Buffer) => void;

/** What a replier needs of its socket; kept small so replies stay testable without sockets. */
export interface ReplyTarget {
  id: string;
  remote: string;
  /** Write bytes; false when the kernel buffer is full (Node's `write()` contract). */
  write(data: Buffer): boolean;
  /** Stop reading until `drain` (backpressure), unless the user paused on purpose. */
  holdUntilDrain(): void;
  /** Half-close after a reply (`--close-after-reply`). */
  end(): void;
  /** Tell the person watching (HTTP request lines, malformed requests). */
  note(message: string, isError?: boolean): void;
}

export interface ReplierOptions {
  closeAfterReply?: boolean;
  http?: boolean;
}

/** Build the per-socket reply function, or undefined when nothing is sent back. */
export function createReplier(spec: ReplySpec, target: ReplyTarget, options: ReplierOptions = {}): Replier | undefined {
  if (options.http) return httpReplier(spec, target);
  const after = options.closeAfterReply ? () => target.end() : undefined;
  switch (spec.kind) {
    case 'none':
    case 'discard':
      return undefined;
    case 'echo':
      return echoReplier(target, after);
    case 'template': {
      // `{data}` alone answers the bytes as received: the echo, without a context object per chunk.
      if (echoesInput(spec)) return echoReplier(target, after);
      const { template } = spec;
      // {upper} and {lower} decode each chunk as UTF-8 on its own (as the tutorial server's
      // toString() does): a character split across two chunks becomes two U+FFFD. Kept, and said once.
      let warned = !/\{(upper|lower)\}/.test(spec.source);
      return (chunk) => {
        if (!warned && splitsCharacter(chunk)) {
          warned = true;
          target.note(
            'this chunk starts or ends inside a UTF-8 character: {upper}/{lower} read each chunk on its own, so each half becomes U+FFFD (the template runs once per data chunk)',
          );
        }
        if (!target.write(template({ data: chunk, id: target.id, remote: target.remote }))) target.holdUntilDrain();
        after?.();
      };
    }
  }
}

function echoReplier(target: ReplyTarget, after: (() => void) | undefined): Replier {
  if (after === undefined) {
    return (chunk) => {
      if (!target.write(chunk)) target.holdUntilDrain();
    };
  }
  return (chunk) => {
    if (!target.write(chunk)) target.holdUntilDrain();
    after();
  };
}

/**
 * True when a chunk begins with a UTF-8 continuation byte, or ends with the
 * start of a multi-byte character whose remaining bytes are not in it.
 */
export function splitsCharacter(chunk: Buffer): boolean {
  if (chunk.length === 0) return false;
  if (((chunk[0] as number) & 0xc0) === 0x80) return true;
  // Look back over at most 3 continuation bytes for the lead byte of the last character.
  for (let back = 1; back <= Math.min(4, chunk.length); back++) {
    const b = chunk[chunk.length - back] as number;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back;
  }
  return false;
}

/** Throw a usage error for `--reply` values that make no sense with the other options. */
export function checkReplyOptions(spec: ReplySpec, http: boolean): void {
  if (http && (spec.kind === 'discard' || spec.kind === 'echo')) {
    throw new SocklabError('E_BAD_OPTION', `--reply ${spec.kind} does not apply to --http: give a body template like --reply 'You said "{data}"'`);
  }
}
