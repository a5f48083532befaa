import net from 'node:net';
import { SocklabError, messageOf } from '../errors.js';
import { isSocketPath, parseAddress, type Address } from '../parse/address.js';
import type { ParsedArgs } from '../parse/command-line.js';
import { decodePayload } from '../parse/payload.js';
import { capability, isLive, kindOf, type Endpoint } from '../session/endpoint.js';
import { ServerState, type SocketEndpoint } from '../endpoints/tcp-types.js';
import { payloadFileUse, permittedReader, replyFileUse } from '../parse/payload-file.js';
import { checkFile, type FileUse, type Permissions } from '../script/permissions.js';
import type { Session } from '../session/session.js';
import { checkReplyOptions, parseReply } from '../behaviours/reply.js';
import { checkFrameOptions, framingOf } from '../behaviours/framed.js';
import { FRAME_SPECS } from '../protocols/framing.js';
import { defineCommand } from './define.js';
import { connectWithRetry } from './retry.js';

/** `--frame` and `--max-message`, the same on `.listen`, `.connect` and `.proxy` (SPEC 12). */
export const FRAME_OPTIONS = {
  frame: { type: 'string', value: 'SPEC', help: `cut what arrives into messages: ${FRAME_SPECS}; shown, answered (--reply) and sent (.send) per message` },
  'max-message': { type: 'int', value: 'N', min: 1, help: 'with --frame: the largest message in bytes (default 1048576); a peer past it gets an error and the connection closed' },
} as const;

const FRAME_HELP =
  ' With --frame SPEC the connection carries messages, not a byte stream: one `← msg` line per whole message ' +
  '(nothing for a chunk that ends inside one; .show says how many bytes wait), --reply once per message, framed; ' +
  '.send sends one framed message (--raw: the bytes as they are); .wait ID message.';

/** A `--frame`/`--max-message` pair that can be read, checked when the line is parsed. */
function checkFrame(a: ParsedArgs): void {
  framingOf({ frame: str(a, 'frame'), maxMessage: num(a, 'max-message') });
  checkFrameOptions({ frame: str(a, 'frame'), http: flag(a, 'http') });
}
import { CONNECT_TLS_OPTIONS, LISTEN_TLS_OPTIONS, checkTlsOptions, connectTlsConfig, listenTls, tlsFileUses } from './tls-options.js';

const str = (a: ParsedArgs, k: string): string | undefined => a.options[k] as string | undefined;

/**
 * A Unix socket path as a file of the script (SPEC 6): listening on it
 * creates a file (`write`: needs --allow-write in a script), connecting to it
 * uses one (`read`: without --allow-read it stays in the script's folder).
 * Not a path (a port, a server s1): no file.
 */
export function socketPathUses(text: string | undefined, what: string, access: FileUse['access']): FileUse[] {
  return text === undefined || !isSocketPath(text) ? [] : [{ path: text, access, what }];
}

/** The address with its socket path, if any, resolved as the script may use it (against its folder). */
export function permittedAddress<A extends { path?: string | undefined }>(perms: Permissions | undefined, address: A, what: string, access: FileUse['access']): A {
  return address.path === undefined ? address : { ...address, path: checkFile(perms, { path: address.path, access, what }) };
}
const num = (a: ParsedArgs, k: string): number | undefined => a.options[k] as number | undefined;
const flag = (a: ParsedArgs, k: string): boolean => a.options[k] === true;

/**
 * A command completes when its endpoints are listening / connected, so the
 * next script line can rely on them. (The REPL does not wait: it shows the
 * prompt at once and the outcome arrives as an event.)
 */
async function settle(eps: Endpoint[]): Promise<void> {
  await Promise.all(eps.map((ep) => ep.ready));
}

export const listen = defineCommand({
  name: 'listen',
  group: 'endpoints',
  summary: 'start a server (port 0 = any free port)',
  args: {
    usage: '.listen [HOST:]PORT | PATH [opts] [as NAME]',
    positionals: ['ADDRESS'],
    alias: true,
    options: {
      reply: { type: 'string', value: 'SPEC', help: 'echo | none | discard | a template like \'You said "{upper}"\' (runs once per data chunk; with --frame once per message)' },
      greet: { type: 'string', value: 'PAYLOAD', help: 'send this to every new connection' },
      timeout: { type: 'duration', value: 'MS', help: 'idle timeout: destroy a connection silent this long' },
      max: { type: 'int', value: 'N', min: 1, help: 'refuse connections past N at once' },
      backlog: { type: 'int', value: 'N', min: 1, help: 'length of the kernel queue of pending connections' },
      'half-open': { type: 'flag', help: 'allowHalfOpen: a peer FIN does not end our side' },
      'pause-on-connect': { type: 'flag', help: 'accepted sockets start paused (.resume to read)' },
      'close-after-reply': { type: 'flag', help: 'send FIN after the first reply' },
      http: { type: 'flag', help: 'parse HTTP/1.1 requests; --reply builds the response body' },
      ...FRAME_OPTIONS,
      ...LISTEN_TLS_OPTIONS,
    },
  },
  help:
    'Binds 127.0.0.1 unless a host is given; 0.0.0.0 or :: makes the port reachable from the network. ' +
    'A PATH (with a /) is a Unix domain socket. Connections it accepts become c1, c2, …; with --tls each shows a secure line when its handshake completes, and data lines show the plaintext.' + FRAME_HELP,
  examples: ['.listen 9000 --reply echo', '.listen 0 --reply \'You said "{upper}"\' as srv', '.listen 0 --frame len16 --reply echo', '.listen 8443 --tls --reply echo --cert-out localhost.pem'],
  check(a) {
    parseAddress(a.positionals[0] ?? '', 'listen');
    const greet = str(a, 'greet');
    if (greet !== undefined && !greet.startsWith('file:')) decodePayload(greet);
    const reply = str(a, 'reply');
    if (reply !== undefined && !reply.includes('file:')) checkReplyOptions(parseReply(reply), flag(a, 'http'));
    checkFrame(a);
    checkTlsOptions(a, LISTEN_TLS_OPTIONS);
  },
  files: (a) => [
    ...socketPathUses(a.positionals[0], '.listen', 'write'),
    ...replyFileUse(str(a, 'reply'), '--reply file:'),
    ...payloadFileUse(str(a, 'greet'), '--greet file:'),
    ...tlsFileUses(a),
  ],
  async run(ctx, a) {
    const address = permittedAddress(ctx.permissions, parseAddress(a.positionals[0] ?? '', 'listen'), '.listen', 'write');
    const greetText = str(a, 'greet');
    const tls = listenTls(ctx.permissions, a);
    const ep = ctx.session.listen({
      ...address,
      alias: a.alias,
      reply: permittedReply(ctx.permissions, str(a, 'reply')),
      greet: greetText === undefined ? undefined : decodePayload(greetText, { readFile: permittedReader(ctx.permissions, '--greet file:') }),
      idleTimeout: num(a, 'timeout'),
      max: num(a, 'max'),
      backlog: num(a, 'backlog'),
      halfOpen: flag(a, 'half-open'),
      pauseOnConnect: flag(a, 'pause-on-connect'),
      closeAfterReply: flag(a, 'close-after-reply'),
      http: flag(a, 'http'),
      frame: str(a, 'frame'),
      maxMessage: num(a, 'max-message'),
      tls,
    });
    await settle([ep]);
  },
});

/** A `--reply file:PATH` with the path a script may read, resolved against its folder. */
function permittedReply(perms: Permissions | undefined, spec: string | undefined): string | undefined {
  const [use] = replyFileUse(spec, '--reply file:');
  return use === undefined ? spec : `file:${checkFile(perms, use)}`;
}

/** The address to reach: a literal one, or the one a server (or relay) of this session listens on. */
function connectTarget(session: Session, text: string, perms: Permissions | undefined): Address | Promise<Address> {
  const server = session.find(text);
  if (server === undefined) return permittedAddress(perms, parseAddress(text, 'connect'), '.connect', 'read');
  const handle = kindOf(server).handle(server);
  if (!(handle instanceof net.Server)) throw new SocklabError('E_USAGE', `${text} is a ${kindOf(server).noun}: connect to a server (s1), a relay (p1) or an address`);
  // Listening already: answer in the same turn, so a pasted `.connect s1 as a` then `.send a …` find `a`.
  if (server.state === ServerState.STARTING) {
    return server.ready.then(
      () => listeningAddress(server, handle),
      (err: unknown) => {
        throw new SocklabError('E_STATE', `${server.id} is not listening: ${messageOf(err).replace(/^[sp]\d+: /, '')}`, { cause: err });
      },
    );
  }
  return listeningAddress(server, handle);
}

function listeningAddress(server: Endpoint, handle: net.Server): Address {
  const addr = handle.address();
  if (addr === null) throw new SocklabError('E_STATE', `${server.id} is ${server.state}: it listens nowhere`);
  if (typeof addr === 'string') return { path: addr };
  const wildcard: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };
  return { host: wildcard[addr.address] ?? addr.address, port: addr.port };
}

export const connect = defineCommand({
  name: 'connect',
  group: 'endpoints',
  summary: 'open a client socket (to an address or a server sN of this session)',
  args: {
    usage: '.connect [HOST:]PORT | PATH | sN [opts] [as NAME]',
    positionals: ['ADDRESS'],
    alias: true,
    options: {
      count: { type: 'int', value: 'N', min: 1, max: 10_000, help: 'open N sockets at once (as NAME names them NAME1…NAMEn)' },
      timeout: { type: 'duration', value: 'MS', help: 'give up connecting after this long (default 10s)' },
      idle: { type: 'duration', value: 'MS', help: 'idle timeout once connected: a timeout event when nothing moved this long' },
      'idle-destroy': { type: 'flag', help: 'with --idle: also destroy the socket when it fires' },
      nodelay: { type: 'flag', help: 'setNoDelay: turn off Nagle, small writes go out at once' },
      keepalive: { type: 'duration', value: 'MS', help: 'TCP keep-alive probes after this much idle time' },
      'local-port': { type: 'int', value: 'P', min: 1, max: 65535, help: 'bind the local end to port P' },
      family: { type: 'int', value: '4|6', min: 4, max: 6, help: 'resolve the host to IPv4 or IPv6 only' },
      reply: { type: 'string', value: 'SPEC', help: 'answer what the server sends: echo | a template' },
      'half-open': { type: 'flag', help: 'allowHalfOpen: a peer FIN does not end our side' },
      retry: { type: 'duration', value: 'MS', help: 'while refused (a server still starting), try again with a short back-off for up to this long' },
      ...FRAME_OPTIONS,
      ...CONNECT_TLS_OPTIONS,
    },
  },
  help:
    'The host defaults to 127.0.0.1. `.connect s1` reaches server s1 wherever it listens, so scripts never hard-code ports. ' +
    '--retry 10s waits for a server that is still starting: refused attempts print nothing, one note says it is retrying, one error if it gives up; ' +
    'each attempt is a new socket id, so name it: `.connect ${PORT} --retry 10s as c`. ' +
    '--timeout is for connecting; --idle is the idle timeout after (a timeout set from JavaScript, c1.setTimeout(500), shows as a timeout event too). ' +
    '--tls: the command completes once TCP is connected; the handshake ends with a secure line (`.wait c1 secure`), or one error line naming the reason and the option that changes it (--ca FILE, --insecure, --servername).' + FRAME_HELP,
  examples: ['.connect 9000', '.connect s1 as alice', '.connect localhost:1234 --count 2 --nodelay', '.connect example.com:443 --tls --alpn h2,http/1.1'],
  check(a) {
    if (a.options.timeout === 0) throw new SocklabError('E_USAGE', '--timeout 0 would give up at once: give a duration like 500ms or 5s');
    if (a.options.idle === 0) throw new SocklabError('E_USAGE', '--idle 0 turns the idle timeout off: give a duration like 500ms or 5s');
    if (flag(a, 'idle-destroy') && a.options.idle === undefined) {
      throw new SocklabError('E_USAGE', '--idle-destroy needs --idle MS: how long the socket may be idle, e.g. --idle 5s --idle-destroy');
    }
    checkFrame(a);
    checkTlsOptions(a, CONNECT_TLS_OPTIONS);
  },
  files: (a) => [...socketPathUses(a.positionals[0], '.connect', 'read'), ...replyFileUse(str(a, 'reply'), '--reply file:'), ...tlsFileUses(a)],
  async run(ctx, a) {
    const family = num(a, 'family');
    if (family !== undefined && family !== 4 && family !== 6) throw new SocklabError('E_USAGE', `--family takes 4 or 6, not ${family}`);
    const count = num(a, 'count') ?? 1;
    const target = connectTarget(ctx.session, a.positionals[0] ?? '', ctx.permissions);
    const address = target instanceof Promise ? await target : target;
    const tls = connectTlsConfig(ctx.permissions, a);
    const eps: Array<SocketEndpoint | Promise<SocketEndpoint>> = [];
    const retry = num(a, 'retry');
    for (let i = 1; i <= count; i++) {
      const attempt = (): SocketEndpoint =>
        ctx.session.connect({
          ...address,
          alias: a.alias === undefined ? undefined : count > 1 ? `${a.alias}${i}` : a.alias,
          timeout: num(a, 'timeout'),
          idle: num(a, 'idle'),
          idleDestroy: flag(a, 'idle-destroy'),
          noDelay: flag(a, 'nodelay'),
          keepAlive: num(a, 'keepalive'),
          localPort: num(a, 'local-port'),
          family: family as 4 | 6 | undefined,
          reply: permittedReply(ctx.permissions, str(a, 'reply')),
          halfOpen: flag(a, 'half-open'),
          frame: str(a, 'frame'),
          maxMessage: num(a, 'max-message'),
          tls,
        });
      eps.push(retry === undefined ? attempt() : connectWithRetry(ctx.session, attempt, retry, ctx.signal));
    }
    await settle(await Promise.all(eps));
  },
});

const ID_ARGS = (name: string, extra = '') => ({ usage: `.${name} ID${extra}`, positionals: ['ID'] });

export const end = defineCommand({
  name: 'end',
  group: 'endpoints',
  summary: 'half-close: send FIN, keep reading',
  args: ID_ARGS('end'),
  help: 'The peer sees end-of-stream; we can still receive until it ends too. On a socket that already sent FIN, or whose FIN is on its way (or closed), it does nothing and says so.',
  examples: ['.end c1'],
  run(ctx, a) {
    const ep = ctx.session.get(a.positionals[0] ?? '');
    capability(ep, 'end')(ctx.session, ep);
  },
});

export const close = defineCommand({
  name: 'close',
  group: 'endpoints',
  summary: 'socket: graceful end; server: stop accepting (sockets stay); UDP socket: close',
  args: {
    usage: '.close ID | all [--force]',
    positionals: ['ID'],
    options: { force: { type: 'flag', help: 'destroy instead: sockets at once, a server with all its connections' } },
  },
  help:
    'A paused socket reads again, so that it sees the peer\'s FIN and can close. ' +
    'A relay (p1) stops accepting as a server does; its links carry on (--force resets them). ' +
    'Idempotent: closing what already sent FIN, is closing or closed is a note, not an error.',
  examples: ['.close c1', '.close s1 --force', '.close all'],
  run(ctx, a) {
    const ref = a.positionals[0] ?? '';
    const force = flag(a, 'force');
    const targets = ref === 'all' ? ctx.session.list().filter(isLive) : [ctx.session.get(ref)];
    for (const ep of targets) kindOf(ep).close(ctx.session, ep, { force, all: ref === 'all' });
  },
});

export const destroy = defineCommand({
  name: 'destroy',
  group: 'endpoints',
  summary: 'abort a socket at once (RST)',
  args: ID_ARGS('destroy'),
  help: 'Unlike .end, no FIN: the peer sees ECONNRESET. On a server: stop it and destroy all its connections.',
  examples: ['.destroy c1'],
  run(ctx, a) {
    const ep = ctx.session.get(a.positionals[0] ?? '');
    capability(ep, 'destroy')(ctx.session, ep);
  },
});

function pauseCommand(name: 'pause' | 'resume') {
  const paused = name === 'pause';
  return defineCommand({
    name,
    group: 'endpoints',
    summary: paused ? 'stop reading (the peer\'s writes back up)' : 'read again after .pause',
    args: ID_ARGS(name),
    help: paused
      ? 'Received bytes stay in the kernel; once its buffers fill, the peer\'s writes return false and its buffer grows (.ls on the peer shows it). On a server: every connection of it.'
      : 'Restart reading a paused socket (or every connection of a server).',
    examples: [`.${name} c1`],
    run(ctx, a) {
      const ep = ctx.session.get(a.positionals[0] ?? '');
      capability(ep, 'pause', name)(ctx.session, ep, paused);
    },
  });
}

export const pause = pauseCommand('pause');
export const resume = pauseCommand('resume');
