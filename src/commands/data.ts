import { decodePayload } from '../parse/payload.js';
import type { ParsedArgs } from '../parse/command-line.js';
import { payloadFileUse, permittedReader } from '../parse/payload-file.js';
import { resolveTargets, sendTo } from '../endpoints/tcp-send.js';
import { EOL_BYTES } from '../settings.js';
import { formatBytes } from '../render/units.js';
import { defineCommand, type CommandContext } from './define.js';

const SEND_OPTIONS = {
  repeat: { type: 'int', value: 'N', min: 1, help: 'send the payload N times, joined into one stream of bytes' },
  chunk: { type: 'int', value: 'N', min: 1, help: 'cut those bytes into writes of N (TCP has no message boundaries)' },
  delay: { type: 'duration', value: 'MS', help: 'wait this long between --chunk writes (without --chunk: between repetitions)' },
  eol: { type: 'flag', help: 'append the session end-of-line (.set eol)' },
  'no-drain': { type: 'flag', help: 'do not wait for the peer to read: Node queues what the kernel will not take (.ls shows it; 8 MiB cap)' },
} as const;

async function send(ctx: CommandContext, a: ParsedArgs, eol: boolean): Promise<void> {
  const [target = '', payload = ''] = a.positionals;
  const targets = resolveTargets(ctx.session, target);
  // A socket still connecting (a `.connect` pasted just before) is waited for, not refused.
  // Awaited only then: the usual send starts writing in the same turn, before a line typed after it.
  const connecting = targets.filter((ep) => ep.connectedAt === undefined);
  if (connecting.length > 0) await Promise.all(connecting.map((ep) => ep.ready));
  let data = decodePayload(payload, { readFile: permittedReader(ctx.permissions, 'payload file:') });
  const suffix = EOL_BYTES[ctx.settings.eol];
  if ((eol || a.options.eol === true) && suffix) data = Buffer.concat([data, Buffer.from(suffix)]);
  const result = await sendTo(ctx.session, targets, data, {
    repeat: a.options.repeat as number | undefined,
    chunk: a.options.chunk as number | undefined,
    delay: a.options.delay as number | undefined,
    noDrain: a.options['no-drain'] === true,
  });
  const waiting = Object.entries(result.buffered).filter(([, n]) => n > 0);
  if (waiting.length > 0) {
    ctx.print(waiting.map(([id, n]) => `${id}: ${formatBytes(n)} still queued (the peer has not read it yet)`).join('\n'));
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
  'hex:48 65 6c, base64:SGVsbG8= or file:PATH. TARGET: a socket, a server (every connection of it) or all.';

export const sendCommand = defineCommand({
  name: 'send',
  group: 'data',
  summary: 'write bytes to a socket, every connection of a server, or all',
  args: { usage: '.send [opts] TARGET PAYLOAD', positionals: ['TARGET', 'PAYLOAD'], rest: true, options: SEND_OPTIONS },
  help:
    `${PAYLOAD_HELP} Completes once the kernel has the bytes (it waits for 'drain' when the peer reads slowly). ` +
    '--repeat N joins N copies into one stream of bytes (large writes); --chunk N cuts that stream into writes of N bytes, ' +
    'a write may span two copies (--repeat 2 --chunk 3 abcd writes abc, dab, cd); --delay waits between those writes, ' +
    'or without --chunk between repetitions.',
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
  help: `${PAYLOAD_HELP} Without a PAYLOAD it sends the end-of-line alone, as pressing Enter in nc does.`,
  examples: ['.sendln c1 I am Chuck Norris!', '.sendln all hello everyone', '.sendln c1'],
  check: checkPayload,
  files: payloadFiles,
  run: (ctx, a) => send(ctx, a, true),
});
