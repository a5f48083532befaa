/**
 * Issue 10, item 6: an error's hint fits the situation. The same OS code means
 * different things on a port, a socket file and a `--local-port`.
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/render/human.js';
import { closeAll, is, tempDir, track } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';

afterEach(closeAll);
const plain = { time: false, colors: pc.createColors(false) };

async function errorLine(rig: ReturnType<typeof commandRig>, id: string): Promise<string> {
  return formatEvent(await rig.log.waitFor(is('error', id)), plain) ?? '';
}

describe('.listen PATH on a socket file that exists', () => {
  it('a stale file (bound by a process that exited, nothing listens): says so and how to remove it', async () => {
    const path = join(tempDir(), 'stale.sock');
    // A real stale file: Python binds it and exits without unlinking.
    execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
    const rig = commandRig();
    await rig.fail(`.listen ${path}`);
    const line = await errorLine(rig, 's1');
    expect(line).toContain('the socket file exists, but nothing answers on it');
    expect(line).toContain('rm PATH');
    expect(line).not.toContain('port');
    // Connecting to it says the same thing from the client's side.
    await rig.fail(`.connect ${path}`);
    expect(await errorLine(rig, 'c1')).toContain('the socket file exists, but no server listens on it');
  });

  it('a file a server answers on: says a server answers, not "port"', async () => {
    const path = join(tempDir(), 'live.sock');
    const server = net.createServer((s) => s.destroy()).listen(path);
    track(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise((resolve) => server.once('listening', resolve));
    const rig = commandRig();
    await rig.fail(`.listen ${path}`);
    expect(await errorLine(rig, 's1')).toContain('the socket file exists and a server answers on it');
  });

  it('a directory that does not exist: says the directory is missing', async () => {
    const rig = commandRig();
    await rig.fail(`.listen ${join(tempDir(), 'no-such-dir', 'x.sock')}`);
    expect(await errorLine(rig, 's1')).toContain('the directory of that socket file does not exist');
  });
});

describe('.connect --local-port', () => {
  it('a local port in use: says the local port is in use, not "this machine has no such address"', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    const port = (rig.ctx.session.getServer('s1').server.address() as net.AddressInfo).port;
    await rig.fail(`.connect s1 --local-port ${port}`);
    const line = await errorLine(rig, 'c1');
    expect(line).toMatch(/error (EADDRINUSE|EADDRNOTAVAIL) .*that local port is .*in use/);
    expect(line).not.toContain('no such address');
  });

  it('the port of a connection in TIME_WAIT towards the same address: the local port, too', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    const port = rig.ctx.session.getSocket('c1').socket.localPort;
    await rig.ok('.end c1'); // our FIN first: c1's side keeps the port in TIME_WAIT
    await rig.ok('.wait c1 close');
    await rig.fail(`.connect s1 --local-port ${port}`);
    const line = await errorLine(rig, 'c3');
    expect(line).toMatch(/error (EADDRINUSE|EADDRNOTAVAIL) .*that local port is .*in use/);
  });

  it('a listen on a port in use still says another server listens there', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    const port = (rig.ctx.session.getServer('s1').server.address() as net.AddressInfo).port;
    await rig.fail(`.listen ${port}`);
    expect(await errorLine(rig, 's2')).toContain('another server already listens on that port');
  });
});
