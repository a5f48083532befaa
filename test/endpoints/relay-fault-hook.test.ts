/**
 * The hook `.fault` builds on (src/behaviours/faults/types.ts): a stage
 * added to a DirectionPipe sees the bytes first, what it passes on is
 * written and shown with its name, what it holds counts for backpressure,
 * removing it hands held bytes on in order, `onLink` reaches links made
 * later, and `reset`/`close` act on the whole link.
 */
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultSink, FaultStage } from '../../src/behaviours/faults/types.js';
import { RELAY_HIGH_WATER, type RelayLink } from '../../src/endpoints/relay-link.js';
import type { RelayEndpoint } from '../../src/endpoints/relay-types.js';
import type { RelayEvent } from '../../src/session/events.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, collect, is, peerClient, peerServer, receive, until } from '../helpers/loopback.js';

afterEach(closeAll);

/** A stage that holds everything until removed (a `timeout 0` in toxiproxy's terms). */
function holding(name: string, next: FaultSink): FaultStage & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  let ended = false;
  return {
    name,
    chunks,
    data: (chunk) => void chunks.push(chunk),
    end: () => void (ended = true),
    reset: (fault) => next.reset(fault),
    close: (fault) => next.close(fault),
    held: () => chunks.reduce((n, c) => n + c.length, 0),
    remove() {
      for (const c of chunks.splice(0)) next.data(c, name);
      if (ended) next.end();
    },
    dispose: () => void chunks.splice(0),
  };
}

function relayOf(rig: CommandRig): RelayEndpoint {
  const ep = rig.ctx.session.get('p1');
  if (ep.kind !== 'relay') throw new Error('p1 is not a relay');
  return ep;
}

/** A relay with one link, once the link is open; `client` is the test's socket at its client end. */
async function oneLink(rig: CommandRig, port: number): Promise<{ link: RelayLink; client: net.Socket }> {
  await rig.ok(`.proxy 0 ${port}`);
  const relay = relayOf(rig);
  const made = new Promise<RelayLink>((resolve) => relay.onLink(resolve));
  const client = await peerClient(Number(relay.address.split(':').at(-1)));
  const link = await made;
  await until(() => link.open, 3000, 'the link open');
  return { link, client };
}

describe('the fault hook of a relay link', () => {
  it('a stage holds what it is given; removed, it hands the bytes on in order, named in their relay events', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    const { link, client: clientPeer } = await oneLink(rig, peer.port);
    const stage = link.up.add((next) => holding('hold', next));
    expect(link.up.stages).toEqual([stage]);
    const server = await peer.nextSocket();
    const atServer = collect(server);
    clientPeer.write('one,');
    clientPeer.write('two');
    await until(() => stage.held() === 7, 3000, 'the stage holding 7 B');
    expect(atServer.data().length).toBe(0);
    expect(link.up.pressure()).toBeGreaterThanOrEqual(7);
    expect(link.up.remove('hold')).toBe(true);
    expect(link.up.stages).toEqual([]);
    await receive(server, 'one,two');
    const relayed = rig.log.of('relay').filter((ev: RelayEvent) => ev.from === link.client.id);
    expect(relayed.map((ev) => ev.fault)).toEqual(relayed.map(() => 'hold'));
    expect(Buffer.concat(relayed.map((ev) => ev.data)).toString()).toBe('one,two');
    expect(link.up.remove('hold')).toBe(false);
  });

  it('held bytes count for backpressure: past the high-water mark the client side stops being read', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    const { link, client: clientPeer } = await oneLink(rig, peer.port);
    const stage = link.up.add((next) => holding('hold', next));
    const server = await peer.nextSocket();
    let got = 0;
    server.on('data', (c: Buffer) => (got += c.length));
    const total = 4 * RELAY_HIGH_WATER;
    clientPeer.write(Buffer.alloc(total, 0x62));
    await until(() => link.up.blocked && link.client.socket.isPaused(), 3000, 'the client side paused');
    expect(stage.held()).toBeLessThan(total);
    link.up.remove('hold');
    await until(() => got === total, 3000, 'every byte at the server');
    expect(link.up.blocked).toBe(false);
  });

  it('onLink reaches links made later; a stage that resets resets both sides, named in a note', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const relay = relayOf(rig);
    relay.onLink((link) => link.down.add((next) => ({ ...holding('boom', next), data: () => next.reset('boom') })));
    const client = await peerClient(Number(relay.address.split(':').at(-1)));
    const reset = new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve));
    const server = await peer.nextSocket();
    const serverReset = new Promise<NodeJS.ErrnoException>((resolve) => server.once('error', resolve));
    await rig.log.waitFor(is('connect', 'c2'));
    server.write('anything');
    expect((await reset).code).toBe('ECONNRESET');
    expect((await serverReset).code).toBe('ECONNRESET');
    await rig.log.waitFor((ev) => ev.type === 'note' && ev.id === 'p1' && /^boom: resetting c1 and c2$/.test(ev.message));
  });
});
