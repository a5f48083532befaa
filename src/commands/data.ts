import { decodePayload } from '../parse/payload.js';
import type { ParsedArgs } from '../parse/command-line.js';
import { payloadFileUse, permittedReader } from '../parse/payload-file.js';
import { SocklabError } from '../errors.js';
import { capability, kindOf, type Endpoint, type EndpointKind } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import { EOL_BYTES } from '../settings.js';
import { formatBytes } from '../render/units.js';
import { defineCommand, type CommandContext } from './define.js';

const SEND_OPTIONS = {
  repeat: { type: 'int', value: 'N', min: 1, help: 'send the payload N times, joined into one stream of bytes' },
  chunk: { type: 'int', value: 'N', min: 1, help: 'cut those bytes into writes of N (TCP has no message boundaries)' },
  delay: { type: 'duration', value: 'MS', help: 'wait this long between --chunk writes (without --chunk: between repetitions)' },
  eol: { type: 'flag', help: 'append the session end-of-line (.set eol)' },
  'no-drain': { type: 'flag', help: 'do not wait for the peer to read: Node queues what the kernel will not take (.ls shows it; 8 MiB cap)' },
  raw: { type: 'flag', help: 'on a framed socket (--frame): send the bytes as they are, no length prefix or delimiter added' },
  to: { type: 'string', value: 'HOST:PORT|uN', help: 'UDP: where the datagram goes (default: the --connect peer, else the last peer that sent)' },
} as const;

async function send(ctx: CommandContext, a: ParsedArgs, eol: boolean): Promise<void> {
  const [target = '', payload = ''] = a.positionals;
  const groups = sendGroups(ctx.session, target);
  checkSendOptions(groups.keys(), a);
  let data = decodePayload(payload, { readFile: permittedReader(ctx.permissions, 'payload file:') });
  const suffix = EOL_BYTES[ctx.settings.eol];
  const appended = (eol || a.options.eol === true) && suffix ? Buffer.from(suffix) : undefined;
  if (appended) data = Buffer.concat([data, appended]);
  const options = {
    repeat: a.options.repeat as number | undefined,
    chunk: a.options.chunk as number | undefined,
    delay: a.options.delay as number | undefined,
    noDrain: a.options['no-drain'] === true,
    to: a.options.to as string | undefined,
    raw: a.options.raw === true,
    ...(appended ? { eol: appended } : {}),
  };
  const results = await Promise.all([...groups].map(([kind, eps]) => kind.send!(ctx.session, eps, data, options)));
  const buffered = Object.assign({}, ...results.map((r) => r.buffered)) as Record<string, number>;
  const waiting = Object.entries(buffered).filter(([, n]) => n > 0);
  if (waiting.length > 0) {
    ctx.print(waiting.map(([id, n]) => `${id}: ${formatBytes(n)} still queued (the peer has not read it yet)`).join('\n'));
  }
}

/**
 * The endpoints a `.send` target names, by kind (one send per kind, so each
 * kind checks all of its targets before it writes to any): one endpoint, or
 * with `all` every endpoint whose kind says it takes part now.
 */
function sendGroups(session: Session, target: string): Map<EndpointKind, Endpoint[]> {
  const groups = new Map<EndpointKind, Endpoint[]>();
  const add = (ep: Endpoint): void => {
    const kind = kindOf<Endpoint>(ep);
    const eps = groups.get(kind);
    if (eps) eps.push(ep);
    else groups.set(kind, [ep]);
  };
  if (target !== 'all') {
    const ep = session.get(target);
    capability(ep, 'send');
    add(ep);
    return groups;
  }
  for (const ep of session.list()) if (kindOf<Endpoint>(ep).inSendAll?.(ep) === true) add(ep);
  if (groups.size === 0) throw new SocklabError('E_STATE', 'no open socket to send to: .connect or wait for a client first');
  return groups;
}

/** Each kind takes the `.send` options it says it takes (`--to` is UDP's; `--chunk` is not). */
function checkSendOptions(kinds: Iterable<EndpointKind>, a: ParsedArgs): void {
  const given = Object.keys(a.options).filter((k) => a.options[k] !== undefined && a.options[k] !== false);
  for (const kind of kinds) {
    for (const name of given) {
      if (kind.sendOptions ? kind.sendOptions.includes(name) : name !== 'to') continue;
      const why = kind.cannot?.[`--${name}`] ?? (name === 'to' ? 'it has one peer; --to is for UDP sockets (u1)' : `--${name} does not apply to it`);
      throw new SocklabError('E_USAGE', `--${name} with a ${kind.noun}: ${why}`);
    }
  }
}

/** A bad escape is a mistake in the line itself: found before a script runs (files are read at run time). */
function checkPayload(a: ParsedArgs): void {
  const payload = a.positionals[1] ?? '';
  if (!payload.startsWith('file:')) decodePayload(payload);
}

/** The file a `file:` payload reads: a script checks its permission before it runs. */
const payloadFiles = (a: ParsedArgs) => payloadFileUse(a.positionals[1], 'payload file:');

const PAYLOAD_HELP =
  'PAYLOAD is text with escapes (\\n \\r \\t \\0 \\\\ \\" \\xHH \\u{HHHH}), "quoted text" to keep spaces, ' +
  'hex:48 65 6c, base64:SGVsbG8= or file:PATH. TARGET: a socket, a server (every connection of it), a UDP socket (one datagram per send) or all.';

export const sendCommand = defineCommand({
  name: 'send',
  group: 'data',
  summary: 'write bytes to a socket, every connection of a server, or all',
  args: { usage: '.send [opts] TARGET PAYLOAD', positionals: ['TARGET', 'PAYLOAD'], rest: true, options: SEND_OPTIONS },
  help:
    `${PAYLOAD_HELP} Completes once the kernel has the bytes (it waits for 'drain' when the peer reads slowly). ` +
    '--repeat N joins N copies into one stream of bytes (large writes); --chunk N cuts that stream into writes of N bytes, ' +
    'a write may span two copies (--repeat 2 --chunk 3 abcd writes abc, dab, cd); --delay waits between those writes, ' +
    'or without --chunk between repetitions. On a UDP socket one .send is one datagram (--repeat N: N datagrams) to --to HOST:PORT|uN, ' +
    'else its --connect peer, else the last peer that sent to it. ' +
    'On a framed socket (--frame) the payload is one message: the length prefix or delimiter is added (--repeat N: N messages; --chunk cuts the framed bytes); --raw sends it as it is.',
  examples: ['.send c1 hello\\n', '.send s1 "  spaced  "', '.send --chunk 1 --delay 50ms c1 "one byte at a time"'],
  check: checkPayload,
  files: payloadFiles,
  run: (ctx, a) => send(ctx, a, false),
});

export const sendln = defineCommand({
  name: 'sendln',
  group: 'data',
  summary: '.send with the end-of-line appended (\\n; .set eol crlf | cr | none)',
  args: { usage: '.sendln [opts] TARGET [PAYLOAD]', positionals: ['TARGET', 'PAYLOAD'], required: 1, rest: true, options: SEND_OPTIONS },
  help: `${PAYLOAD_HELP} Without a PAYLOAD it sends the end-of-line alone, as pressing Enter in nc does. ` +
    'On a --frame line or crlf socket the end-of-line is the framing: .sendln sends the payload as one message, the same bytes as .send.',
  examples: ['.sendln c1 I am Chuck Norris!', '.sendln all hello everyone', '.sendln c1'],
  check: checkPayload,
  files: payloadFiles,
  run: (ctx, a) => send(ctx, a, true),
});
