import net from 'node:net';
import { SocklabError, messageOf } from '../errors.js';
import { openRelay } from '../endpoints/relay.js';
import type { RelayTarget } from '../endpoints/relay-types.js';
import { parseAddress } from '../parse/address.js';
import { kindOf } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import type { Permissions } from '../script/permissions.js';
import { defineCommand } from './define.js';
import { FRAME_OPTIONS, permittedAddress, socketPathUses } from './endpoints.js';
import { framingOf } from '../behaviours/framed.js';
import type { ParsedArgs } from '../parse/command-line.js';
import { CONNECT_TLS_OPTIONS, LISTEN_TLS_OPTIONS, checkTlsOptions, connectTlsConfig, listenTls, tlsFileUses } from './tls-options.js';

/**
 * `.proxy`'s TLS options: `--tls` with `.listen`'s certificate options for the
 * side clients see, `--tls-upstream` with `.connect`'s verification options
 * for the side of the target. Each side is checked and built by the same
 * code as `.listen --tls` / `.connect --tls`, from its own options only.
 */
const CLIENT_SIDE = ['cert', 'key', 'alpn', 'cert-out'] as const;
const TARGET_SIDE = ['servername', 'ca', 'insecure'] as const;
const PROXY_TLS_OPTIONS = {
  tls: { ...LISTEN_TLS_OPTIONS.tls!, help: 'clients speak TLS to the relay: it terminates TLS and relays plaintext (without --cert, a self-signed certificate for localhost, 127.0.0.1, ::1 is made; its SHA-256 fingerprint is printed)' },
  ...Object.fromEntries(CLIENT_SIDE.map((k) => [k, LISTEN_TLS_OPTIONS[k]!])),
  'tls-upstream': { type: 'flag', help: 'speak TLS to the target; its certificate is verified (--ca FILE, --servername NAME, --insecure)' },
  servername: { ...CONNECT_TLS_OPTIONS.servername!, help: 'with --tls-upstream: the SNI name to ask the target for and check its certificate against' },
  ca: { ...CONNECT_TLS_OPTIONS.ca!, help: 'with --tls-upstream: trust the CAs (or self-signed certificate) in FILE for the target' },
  insecure: { ...CONNECT_TLS_OPTIONS.insecure!, help: 'with --tls-upstream: do not verify the target\'s certificate' },
} as const;

/** The options of one side, under the names `.listen`/`.connect` give them. */
function side(a: ParsedArgs, flag: 'tls' | 'tls-upstream', names: readonly string[]): ParsedArgs {
  const options: Record<string, unknown> = { tls: a.options[flag] };
  for (const k of names) if (a.options[k] !== undefined) options[k] = a.options[k];
  return { ...a, options } as ParsedArgs;
}

function checkProxyTls(a: ParsedArgs): void {
  checkTlsOptions(side(a, 'tls', CLIENT_SIDE), LISTEN_TLS_OPTIONS);
  const up = side(a, 'tls-upstream', TARGET_SIDE);
  if (up.options.tls !== true) {
    const given = TARGET_SIDE.find((k) => a.options[k] !== undefined && a.options[k] !== false);
    if (given !== undefined) throw new SocklabError('E_USAGE', `--${given} is about the target's TLS: add --tls-upstream`);
  }
}

/** TARGET: `[host:]port`, a path, or a server (or relay) of this session, once it listens. */
function relayTarget(session: Session, text: string, perms: Permissions | undefined): RelayTarget | Promise<RelayTarget> {
  const ep = session.find(text);
  if (ep === undefined) {
    const a = permittedAddress(perms, parseAddress(text, 'connect'), '.proxy', 'read');
    return a.path !== undefined ? { path: a.path } : { host: a.host ?? '127.0.0.1', port: a.port };
  }
  const handle = kindOf(ep).handle(ep);
  if (!(handle instanceof net.Server)) {
    throw new SocklabError('E_USAGE', `${text} is a ${kindOf(ep).noun}: a relay's target is a server (s1), HOST:PORT or a socket path`);
  }
  const where = (): RelayTarget => {
    const addr = handle.address();
    if (addr === null) throw new SocklabError('E_STATE', `${ep.id} is ${ep.state}: it listens nowhere`);
    if (typeof addr === 'string') return { path: addr };
    const wildcard: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };
    return { host: wildcard[addr.address] ?? addr.address, port: addr.port };
  };
  if (handle.listening) return where();
  return ep.ready.then(where, (err: unknown) => {
    throw new SocklabError('E_STATE', `${ep.id} is not listening: ${messageOf(err).replace(/^\w\d+: /, '')}`, { cause: err });
  });
}

export const proxy = defineCommand({
  name: 'proxy',
  group: 'endpoints',
  summary: 'relay (p1): each client gets its own connection to TARGET; both directions shown',
  args: {
    usage: '.proxy [HOST:]PORT | PATH TARGET [--max N] [--tls [--cert FILE --key FILE]] [--tls-upstream [--ca FILE]] [--frame SPEC] [as NAME]',
    positionals: ['ADDRESS', 'TARGET'],
    alias: true,
    options: {
      max: { type: 'int', value: 'N', min: 1, help: 'links at once; clients past N are refused' },
      ...PROXY_TLS_OPTIONS,
      ...FRAME_OPTIONS,
    },
  },
  help:
    'Listens on ADDRESS (127.0.0.1 unless a host is given; port 0 = any free port). For each client accepted (cN) it opens a connection ' +
    'to TARGET ([HOST:]PORT, a socket path, or a server sN of this session) as cM and relays both ways: a relay event per chunk, ' +
    '`p1  c3 ⇒ c4  12 B  "…"` (up, client → target) and `p1  c3 ⇐ c4` (down). Backpressure: a side that does not read slows the other, ' +
    'memory stays bounded; Nagle is off on both sockets, so each chunk goes on at once. A FIN is passed on as a FIN (half-close), an RST as an RST; a target that cannot be reached closes the client. ' +
    'Both sockets of a link have their own lifecycle events (who closed first); .expect c3 matches what c3 received. ' +
    '.close p1 stops accepting (links stay); --force also resets the links. .ls shows each link as c3 ⇄ c4. ' +
    '--tls terminates TLS from clients and relays the plaintext (so you see inside an HTTPS client\'s traffic: give the client the printed ' +
    'certificate, e.g. --cert-out relay.pem and curl --cacert relay.pem); --tls-upstream speaks TLS to the target. Each TLS side shows a secure line. ' +
    '--frame SPEC (as on .listen) shows what each side sends as whole messages (`c3  ← msg 5 B`) instead of chunks; the bytes are relayed as they come.',
  examples: ['.proxy 0 s1 as watch', '.proxy 8080 example.org:80 --max 4', '.proxy ./lab.sock 127.0.0.1:9000', '.proxy 8443 example.org:443 --tls --tls-upstream --servername example.org --cert-out relay.pem'],
  // The listening path is created (--allow-write in a script); a path TARGET is used as .connect uses it.
  files: (a) => [...socketPathUses(a.positionals[0], '.proxy', 'write'), ...socketPathUses(a.positionals[1], '.proxy', 'read'), ...tlsFileUses(a)],
  check(a) {
    parseAddress(a.positionals[0] ?? '', 'listen');
    checkProxyTls(a);
    framingOf({ frame: a.options.frame as string | undefined, maxMessage: a.options['max-message'] as number | undefined });
  },
  async run(ctx, a) {
    const address = permittedAddress(ctx.permissions, parseAddress(a.positionals[0] ?? '', 'listen'), '.proxy', 'write');
    const found = relayTarget(ctx.session, a.positionals[1] ?? '', ctx.permissions);
    const target = found instanceof Promise ? await found : found;
    const tls = listenTls(ctx.permissions, side(a, 'tls', CLIENT_SIDE));
    const tlsUpstream = connectTlsConfig(ctx.permissions, side(a, 'tls-upstream', TARGET_SIDE));
    const ep = openRelay(ctx.session, { ...address, alias: a.alias, target, max: a.options.max as number | undefined, tls, tlsUpstream,
      frame: a.options.frame as string | undefined, maxMessage: a.options['max-message'] as number | undefined });
    await ep.ready;
  },
});
