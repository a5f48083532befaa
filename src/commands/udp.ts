import { SocklabError } from '../errors.js';
import { openUdp } from '../endpoints/udp.js';
import { reachable } from '../endpoints/udp-send.js';
import type { UdpPeer } from '../endpoints/udp-types.js';
import { parseAddress } from '../parse/address.js';
import type { ParsedArgs } from '../parse/command-line.js';
import { replyFileUse } from '../parse/payload-file.js';
import { checkFile } from '../script/permissions.js';
import type { Session } from '../session/session.js';
import { checkReplyOptions, parseReply } from '../behaviours/reply.js';
import { defineCommand } from './define.js';

const str = (a: ParsedArgs, k: string): string | undefined => a.options[k] as string | undefined;

/** `--connect HOST:PORT` or `--connect u2` (where that UDP socket is bound). */
function peerOf(session: Session, text: string): UdpPeer | Promise<UdpPeer> {
  const other = session.find(text);
  if (other !== undefined) {
    if (other.kind !== 'udp') throw new SocklabError('E_USAGE', `--connect ${text}: that is a TCP ${other.kind}; give a UDP socket (u1) or HOST:PORT`);
    return other.ready.then(() => reachable(other.local));
  }
  const address = parseAddress(text, 'connect');
  if (address.path !== undefined) throw new SocklabError('E_BAD_ADDRESS', `--connect ${text}: UDP connects to HOST:PORT (or u1), not to a path`);
  return { host: address.host ?? '127.0.0.1', port: address.port };
}

export const udp = defineCommand({
  name: 'udp',
  group: 'endpoints',
  summary: 'bind a UDP socket (u1): datagrams, no connection',
  args: {
    usage: '.udp [HOST:]PORT [opts] [as NAME]',
    positionals: ['ADDRESS'],
    alias: true,
    options: {
      reply: { type: 'string', value: 'SPEC', help: 'echo | a template like \'You said "{upper}"\': answer each datagram to its sender' },
      connect: { type: 'string', value: 'HOST:PORT|uN', help: 'a default destination (connected UDP: only its datagrams arrive; ICMP errors show)' },
      broadcast: { type: 'flag', help: 'allow sending to broadcast addresses (SO_BROADCAST)' },
      multicast: { type: 'string', value: 'GROUP', help: 'join a multicast group, e.g. 239.1.2.3' },
      ttl: { type: 'int', value: 'N', min: 1, max: 255, help: 'IP time-to-live of what it sends (and of multicast)' },
    },
  },
  help:
    'Binds 127.0.0.1 unless a host is given ([::1]:PORT for IPv6; port 0 = any free port). One .send is one datagram; ' +
    '.send --to HOST:PORT u1 … picks the destination, else the --connect peer, else the last peer that sent to it. ' +
    '.expect u1 matches inside one datagram; .wait u1 datagram waits for one.',
  examples: ['.udp 0 --reply echo as echo', '.udp 5353', '.udp [::1]:0 --connect [::1]:9999'],
  check(a) {
    const address = parseAddress(a.positionals[0] ?? '', 'listen');
    if (address.path !== undefined) throw new SocklabError('E_BAD_ADDRESS', `.udp binds HOST:PORT, not a path: ${address.path}`);
    const reply = str(a, 'reply');
    if (reply !== undefined && !reply.includes('file:')) checkReplyOptions(parseReply(reply), false);
  },
  files: (a) => replyFileUse(str(a, 'reply'), '--reply file:'),
  async run(ctx, a) {
    const address = parseAddress(a.positionals[0] ?? '', 'listen');
    if (address.path !== undefined) throw new SocklabError('E_BAD_ADDRESS', `.udp binds HOST:PORT, not a path: ${address.path}`);
    const connectText = str(a, 'connect');
    const target = connectText === undefined ? undefined : peerOf(ctx.session, connectText);
    const connect = target instanceof Promise ? await target : target;
    const [use] = replyFileUse(str(a, 'reply'), '--reply file:');
    const ep = openUdp(ctx.session, {
      ...address,
      alias: a.alias,
      reply: use === undefined ? str(a, 'reply') : `file:${checkFile(ctx.permissions, use)}`,
      connect,
      broadcast: a.options.broadcast === true,
      multicast: str(a, 'multicast'),
      ttl: a.options.ttl as number | undefined,
    });
    await ep.ready;
  },
});
