/**
 * `.proxy` between real peers of other programs: nc and socat as clients,
 * a Python server that resets (SO_LINGER 0) or reads until reset, and the
 * built CLI with `--json` carrying every relayed byte.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { allBytes, cleanupProcesses, hasCommand, jsonEvents, runCli, spawnProcess } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is, peerClient, peerServer } from '../helpers/loopback.js';
import { pythonPeer } from '../helpers/python-peer.js';
import { relayPort } from '../helpers/relay.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

describe('.proxy with real peers', () => {
  it('passes an RST from the target on to the client as an RST (Python peer, SO_LINGER 0)', async () => {
    const py = await pythonPeer();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${py.port}`);
    const client = await peerClient(relayPort(rig));
    const reset = new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve));
    await py.accepted;
    await rig.log.waitFor(is('connect', 'c2'));
    client.write('hello');
    await rig.ok('.expect c1 "hello"');
    await py.ask('rst', ['closed']);
    expect((await reset).code).toBe('ECONNRESET');
    expect((await rig.log.waitFor(is('error', 'c2'))).code).toBe('ECONNRESET');
    const close = await rig.log.waitFor(is('close', 'c1'));
    expect(close).toMatchObject({ aborted: true, reset: true });
  });

  it('passes an RST from the client on to the target as an RST (the Python reader sees ConnectionResetError)', async () => {
    const py = await pythonPeer();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${py.port}`);
    const client = await peerClient(relayPort(rig));
    await py.accepted;
    await rig.log.waitFor(is('connect', 'c2'));
    const read = py.ask('read', ['EOF', 'RESET']);
    client.write('x'.repeat(1000));
    await rig.ok('.expect c1 /x{1000}/');
    client.resetAndDestroy();
    expect(await read).toMatch(/^RESET \d+$/);
    expect(rig.log.of('close', 'c2')[0] ?? (await rig.log.waitFor(is('close', 'c2')))).toMatchObject({ reset: true });
  });

  it.runIf(hasCommand('nc'))('nc as the client: all 256 byte values there and back through an echoing target', async () => {
    const peer = await peerServer({ echo: true, allowHalfOpen: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const nc = spawnProcess('nc', ['-N', '127.0.0.1', String(relayPort(rig))], { input: allBytes() });
    await nc.waitForExit(20_000);
    expect(nc.stdoutBytes().equals(allBytes())).toBe(true);
    await rig.log.waitFor(is('close', 'c1'));
  });

  it.runIf(hasCommand('socat'))('socat as the client: a FIN after its bytes ends the target side; the answer after it still arrives', async () => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => s.end(`got ${Buffer.concat(chunks).length} B then your FIN`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${(server.address() as net.AddressInfo).port}`);
    const socat = spawnProcess('socat', ['-t', '30', '-', `TCP:127.0.0.1:${relayPort(rig)}`], { input: 'abcdef' });
    await socat.waitForExit(20_000);
    server.close();
    expect(socat.stdout()).toBe('got 6 B then your FIN');
    await rig.log.waitFor(is('end', 'c1'));
    await rig.log.waitFor(is('end', 'c2'));
  });

  it('--json: every relay event is one JSON line, and the base64 fields carry every byte both ways', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const cli = runCli(['--json', '-e', `.proxy 0 ${peer.port}`], { keepStdin: true });
    const listening = await cli.waitForStdout(/"event":"listening","id":"p1".*?"port":(\d+)/);
    const client = await peerClient(Number(listening[1]), { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const hostile = Buffer.concat([allBytes(), Buffer.from('\x1b]0;owned\x07\u009b31m\u202e')]);
    client.end(hostile);
    server.end(Buffer.from(hostile).reverse());
    await cli.waitForStdout(/"event":"close","id":"c2"/);
    const relays = jsonEvents(cli.stdout()).filter((ev) => ev.event === 'relay');
    const joined = (dir: string) => Buffer.concat(relays.filter((ev) => ev.dir === dir).map((ev) => Buffer.from(ev.base64 as string, 'base64')));
    expect(joined('up').equals(hostile)).toBe(true);
    expect(joined('down').equals(Buffer.from(hostile).reverse())).toBe(true);
    expect(relays.find((ev) => ev.dir === 'up')).toMatchObject({ id: 'p1', from: 'c1', to: 'c2' });
    expect(relays.find((ev) => ev.dir === 'down')).toMatchObject({ id: 'p1', from: 'c2', to: 'c1' });
    // No raw control byte reaches the reader's terminal, in any field.
    expect(cli.stdout()).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202e]/);
    cli.end();
    await cli.waitForExit(20_000);
  });
});
