import type net from 'node:net';
import { commandRig, type CommandRig } from './commands.js';
import { is, peerClient } from './loopback.js';
import type { SocketEndpoint } from '../../src/endpoints/tcp-types.js';

/** `.listen 0` with `options`, one client connected: the rig, the client, and the server's socket c1. */
export async function oneClient(options = ''): Promise<{ rig: CommandRig; client: net.Socket; c1: SocketEndpoint }> {
  const rig = commandRig();
  await rig.ok(`.listen 0 ${options}`);
  const s1 = rig.ctx.session.get('s1');
  if (s1.kind !== 'server') throw new Error('s1 is not a server');
  const client = await peerClient(Number(s1.address.split(':').at(-1)));
  await rig.log.waitFor(is('accept', 'c1'));
  const c1 = rig.ctx.session.get('c1');
  if (c1.kind !== 'socket') throw new Error('c1 is not a socket');
  return { rig, client, c1 };
}

