import net from 'node:net';
import { SocklabError, messageOf } from '../errors.js';
import { openRelay } from '../endpoints/relay.js';
import type { RelayTarget } from '../endpoints/relay-types.js';
import { parseAddress } from '../parse/address.js';
import { kindOf } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import { defineCommand } from './define.js';

/** TARGET: `[host:]port`, a path, or a server (or relay) of this session, once it listens. */
function relayTarget(session: Session, text: string): RelayTarget | Promise<RelayTarget> {
  const ep = session.find(text);
  if (ep === undefined) {
    const a = parseAddress(text, 'connect');
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
    usage: '.proxy [HOST:]PORT | PATH TARGET [--max N] [as NAME]',
    positionals: ['ADDRESS', 'TARGET'],
    alias: true,
    options: {
      max: { type: 'int', value: 'N', min: 1, help: 'links at once; clients past N are refused' },
    },
  },
  help:
    'Listens on ADDRESS (127.0.0.1 unless a host is given; port 0 = any free port). For each client accepted (cN) it opens a connection ' +
    'to TARGET ([HOST:]PORT, a socket path, or a server sN of this session) as cM and relays both ways: a relay event per chunk, ' +
    '`p1  c3 ⇒ c4  12 B  "…"` (up, client → target) and `p1  c3 ⇐ c4` (down). Backpressure: a side that does not read slows the other, ' +
    'memory stays bounded; Nagle is off on both sockets, so each chunk goes on at once. A FIN is passed on as a FIN (half-close), an RST as an RST; a target that cannot be reached closes the client. ' +
    'Both sockets of a link have their own lifecycle events (who closed first); .expect c3 matches what c3 received. ' +
    '.close p1 stops accepting (links stay); --force also resets the links. .ls shows each link as c3 ⇄ c4.',
  examples: ['.proxy 0 s1 as watch', '.proxy 8080 example.org:80 --max 4', '.proxy ./lab.sock 127.0.0.1:9000'],
  check(a) {
    parseAddress(a.positionals[0] ?? '', 'listen');
  },
  async run(ctx, a) {
    const address = parseAddress(a.positionals[0] ?? '', 'listen');
    const found = relayTarget(ctx.session, a.positionals[1] ?? '');
    const target = found instanceof Promise ? await found : found;
    const ep = openRelay(ctx.session, { ...address, alias: a.alias, target, max: a.options.max as number | undefined });
    await ep.ready;
  },
});
