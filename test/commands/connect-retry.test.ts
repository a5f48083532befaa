/**
 * `.connect --retry DURATION` (SPEC section 13): a server that starts late is
 * found; refused attempts print nothing; giving up is one error line. The
 * servers start after the retry's note (an event), never after a fixed sleep.
 */
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli, spawnProcess } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, closedPort, is, tempDir, track } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

async function lateServer(where: number | string): Promise<net.Server> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  server.listen(typeof where === 'number' ? { port: where, host: '127.0.0.1' } : { path: where });
  await once(server, 'listening');
  track(() => {
    for (const s of sockets) s.destroy();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    return closed;
  });
  return server;
}

const retrying = (ev: { type: string; message?: string }): boolean => ev.type === 'note' && /retrying for up to/.test(ev.message ?? '');

describe('.connect --retry', () => {
  it('finds a TCP server that starts after the first refusal; the refused attempts print nothing', async () => {
    const rig = commandRig();
    const port = await closedPort();
    const connecting = rig.run(`.connect ${port} --retry 10s as c`);
    await rig.log.waitFor(retrying, 5000);
    await lateServer(port);
    expect(await connecting).toBe(true);
    expect(rig.log.of('error')).toEqual([]);
    expect(rig.log.of('command-error')).toEqual([]);
    expect(rig.log.of('connect')).toHaveLength(1);
    expect(rig.log.of('note').filter(retrying)).toHaveLength(1);
    await rig.ok('.sendln c hello');
    await rig.ok('.expect c "hello"');
  });

  it('a Unix socket path that does not exist yet (ENOENT) is retried too', async () => {
    const rig = commandRig();
    const path = join(tempDir(), 'late.sock');
    const connecting = rig.run(`.connect ${path} --retry 10s as u`);
    await rig.log.waitFor(retrying, 5000);
    await lateServer(path);
    expect(await connecting).toBe(true);
    expect(rig.log.of('error')).toEqual([]);
  });

  it('gives up with one error line (not one per attempt) naming how long it tried', async () => {
    const rig = commandRig();
    const port = await closedPort();
    const failed = await rig.fail(`.connect ${port} --retry 300ms`);
    expect(failed.message).toMatch(/ECONNREFUSED.*gave up after \d+ attempts in \d+ ms of --retry/);
    const errors = rig.log.of('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/gave up after/);
    // The session keeps the lifecycle contract: the endpoint that gave up closes once (checked on cleanup).
    await rig.log.waitFor(is('close', errors[0]?.id));
  });

  it('in the REPL the give-up is the one error event (no command-error, as for every network failure)', async () => {
    const rig = commandRig({ interactive: true });
    const port = await closedPort();
    await rig.run(`.connect ${port} --retry 200ms`);
    expect(rig.log.of('error')).toHaveLength(1);
    expect(rig.log.of('command-error')).toEqual([]);
  });

  it('is not used for errors that are not a refusal (a bad host fails at once)', async () => {
    const rig = commandRig({ session: { lookup: (_h, _o, cb) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' }), '', 4) } });
    const failed = await rig.fail('.connect nowhere.invalid:9 --retry 10s');
    expect(failed.message).not.toMatch(/gave up/);
    expect(rig.log.of('note').filter(retrying)).toEqual([]);
  });

  it('a script waits for a real server process that starts late (python3 echo server)', async () => {
    const dir = join(tempDir(), 'ci');
    mkdirSync(dir);
    writeFileSync(join(dir, 'late.lab'), '.connect ${PORT} --retry 15s as c\n.sendln c ping\n.expect c "ping"\n');
    const port = await closedPort();
    const run = runCli(['--no-time', '--var', `PORT=${port}`, join(dir, 'late.lab')]);
    await run.waitForStdout(/retrying for up to/, 10_000);
    const echo = 'import socket,sys\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("127.0.0.1",int(sys.argv[1])));s.listen()\nc,_=s.accept()\nwhile True:\n  d=c.recv(4096)\n  if not d: break\n  c.sendall(d)\n';
    spawnProcess('python3', ['-c', echo, String(port)]);
    const exit = await run.waitForExit(20_000);
    expect(exit.code, run.stdout() + run.stderr()).toBe(0);
    expect(run.stdout()).not.toMatch(/connect ECONNREFUSED|closed after an error/);
    expect(run.stdout()).toMatch(/connected .* as c/);
  });
});
