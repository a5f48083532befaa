/**
 * Rules on a relay (`.on pN …`; SPEC 12) on real loopback sockets: `$id` is
 * the link socket that received (the client's for up, the target's for
 * down), `$remote` its peer's address; `.send $id` is refused when the rule
 * is made (a link socket cannot send), and `.destroy $id` works.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayEndpoint } from '../../src/endpoints/relay-types.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is, peerClient, peerServer, receive } from '../helpers/loopback.js';

afterEach(closeAll);

describe('.on on a relay', () => {
  it('binds $id to the link socket that received and $remote to its peer; .destroy $id resets the link', async () => {
    const peer = await peerServer({ echo: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port} as p`);
    await rig.ok('.on p relay /GET (\\S+)/ .show $id');
    await rig.ok('.on p relay /DELETE/ .destroy $id');
    const relayPort = Number((rig.ctx.session.get('p') as RelayEndpoint).address.split(':').at(-1));
    const client = await peerClient(relayPort);
    client.write('GET /x\n');
    await receive(client, 'GET /x\n');
    const fired = rig.log.of('rule').filter((e) => e.rule === 'r1');
    // Up: received by c1 (the client's side); down (the echo): received by c2 (the target's side).
    expect(fired.map((e) => [e.id, e.command])).toEqual([['c1', '.show c1'], ['c2', '.show c2']]);
    client.write('DELETE\n');
    await rig.log.waitFor(is('close', 'c1'));
    expect(rig.log.of('rule').filter((e) => e.rule === 'r2').map((e) => e.command)).toEqual(['.destroy c1']);
    expect(rig.log.of('command-error')).toEqual([]);
  });

  it('$remote on a relay event is the peer address of the socket that received, not a socket id', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok('.listen 0 as sink');
    await rig.ok(`.proxy 0 ${peer.port} as p`);
    await rig.ok('.on p relay .sendln sink from $remote');
    const relayPort = Number((rig.ctx.session.get('p') as RelayEndpoint).address.split(':').at(-1));
    const client = await peerClient(relayPort);
    client.write('hi');
    const fired = await rig.log.waitFor(is('rule'));
    const { localPort } = client;
    expect(fired.command).toBe(`.sendln sink "from 127.0.0.1:${localPort}"`);
  });

  it('refuses at .on time a .send/.sendln to $id on a relay, with what would work; other targets and commands are fine', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    for (const line of ['.on p1 relay /x/ .sendln $id seen', '.on p1 accept .send --repeat 2 $id hello', '.on p1 connect .sendln --eol $id hi $remote']) {
      const error = await rig.fail(line);
      expect(error.message, line).toBe('on a relay, $id is the link socket that received (c3), which cannot send (its bytes come from the other side of the link): send to the client or the server by name, or use .destroy $id, .pause $id, .close p1, .fault p1');
    }
    await rig.ok('.on p1 relay /x/ .destroy $id');
    await rig.ok('.on p1 relay /x/ .sendln c9 about $id');
    expect(rig.log.of('command-error')).toHaveLength(3);
  });

  it('two links of one relay are two streams: bytes of one never complete a match begun on the other (review 5)', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port} as p`);
    await rig.ok('.on p relay /PING\\n/ .show $id');
    const relayPort = Number((rig.ctx.session.get('p') as RelayEndpoint).address.split(':').at(-1));
    const a = await peerClient(relayPort);
    const atA = await peer.nextSocket();
    const b = await peerClient(relayPort);
    const atB = await peer.nextSocket();
    await rig.log.waitFor(is('connect', 'c4'));
    a.write('PI');
    await receive(atA, 'PI');
    b.write('NG\n');
    await receive(atB, 'NG\n');
    // The rule runs in the turn its chunk is relayed, before the target can have it.
    expect(rig.log.of('rule')).toEqual([]);
    a.write('NG\n');
    const fired = await rig.log.waitFor(is('rule'));
    expect([fired.id, fired.command]).toEqual(['c1', '.show c1']);
    expect(rig.log.of('rule')).toHaveLength(1);
  });
});
