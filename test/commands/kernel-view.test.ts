/**
 * The kernel's view in the commands (`.show`, `.ls --tcp`, `.tcp`) against
 * real connections on loopback in ESTABLISHED, FIN_WAIT2, CLOSE_WAIT and
 * TIME_WAIT, with socklab on both ends or a Python peer on one; IPv6 ::1;
 * a PATH without ss; hostile names and paths. A state is waited for by
 * polling ss with a bound (a hang detector), never by sleeping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryKernel, type KernelKey } from '../../src/observers/kernel-view.js';
import { kindOf } from '../../src/session/endpoint.js';
import type { TcpState } from '../../src/protocols/ss.js';
import { TCP_STATE_NOTES } from '../../src/render/kernel.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { hasCommand } from '../helpers/cli.js';
import { closeAll, hasIpv6Loopback, is, tempDir, track, until } from '../helpers/loopback.js';
import { patience } from '../helpers/patience.js';
import { pythonPeer } from '../helpers/python-peer.js';

afterEach(closeAll);

const HAS_SS = process.platform === 'linux' && hasCommand('ss');
const HAS_PYTHON = hasCommand('python3');
const IPV6 = await hasIpv6Loopback();

function keyOf(rig: CommandRig, id: string): KernelKey {
  const ep = rig.ctx.session.get(id);
  const key = kindOf(ep).kernelKey?.(ep);
  if (typeof key !== 'object') throw new Error(`${id} has no kernel key: ${String(key)}`);
  return key;
}

/** Poll ss until the kernel puts this side of `id`'s connection (or the peer's) in `state`. */
async function kernelState(rig: CommandRig, id: string, state: TcpState, side: 'ours' | 'peer' = 'ours'): Promise<void> {
  const key = keyOf(rig, id);
  const deadline = Date.now() + patience(10_000);
  let last = 'nothing';
  for (;;) {
    const view = await queryKernel([key]);
    if (!view.ok) throw new Error(view.reason);
    const s = side === 'ours' ? view.find(key) : view.findPeer(key);
    if (s?.state === state) return;
    last = s?.state ?? 'no socket';
    if (Date.now() > deadline) throw new Error(`${id} (${side}): ${state} not reached; the kernel says ${last}`);
  }
}

/** `.show ID`'s lines as field → value (the kernel's sub-lines keep their indent). */
async function show(rig: CommandRig, id: string): Promise<Map<string, string>> {
  await rig.ok(`.show ${id}`);
  const text = rig.printed.at(-1)!;
  return new Map(text.split('\n').map((l) => [l.slice(0, 17).trimEnd(), l.slice(17)]));
}

/** s1 (--half-open) with client c1 ("client") and its accepted c2 ("conn"); 5 B sent each way. */
async function pair(listen = '.listen 0 --half-open as srv'): Promise<CommandRig> {
  const rig = commandRig();
  await rig.ok(listen);
  await rig.ok('.connect srv as client');
  await rig.ok('.wait srv accept as conn');
  await rig.ok('.send client hello');
  await rig.ok('.send c2 world');
  await until(() => rig.log.of('data', 'c1').length === 1 && rig.log.of('data', 'c2').length === 1, 3000, 'the bytes both ways');
  return rig;
}

describe.runIf(HAS_SS)('a connection through its states, socklab on both ends', () => {
  it('ESTABLISHED: .show has the kernel section; .ls --tcp one row per socket from one ss call', async () => {
    const rig = await pair();
    const c1 = await show(rig, 'client');
    expect(c1.get('kernel')).toBe('ESTABLISHED  (ss)');
    expect(c1.get('  queues')).toBe('recv-q 0 B not read yet, send-q 0 B not acknowledged');
    expect(c1.get('  rtt')).toMatch(/^\d+(\.\d+)? ms ± \d+(\.\d+)? ms$/);
    expect(c1.get('  cwnd')).toMatch(/^\d+ segments$/);
    expect(c1.get('  retransmits')).toBe('none');
    expect(c1.has('  why')).toBe(false);
    // The section sits between what Node knows and the options.
    const keys = [...c1.keys()];
    expect(keys.indexOf('kernel')).toBe(keys.indexOf('connect time') + 1);
    expect(keys.at(-1)).toBe('options');

    await rig.ok('.ls --tcp');
    const lines = rig.printed.at(-1)!.split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['id', 'name', 'kind', 'local', 'remote', 'state', 'tcp', 'recv-q', 'send-q', 'rtt', 'cwnd', 'retrans', 'in', 'out', 'queued', 'age']);
    expect(lines[1]).toMatch(/^s1\s+srv\s+server\s+\S+\s+1 open \/ 1 accepted\s+listening\s+\d+ms$/); // no kernel cells for a server
    expect(lines[2]).toMatch(/^c1\s+client\s+client\s+\S+\s+\S+\s+open\s+ESTABLISHED\s+0 B\s+0 B\s+[\d.]+ ms\s+\d+\s+0\s+5 B\s+5 B\s+0 B/);
    expect(lines[3]).toMatch(/^c2\s+conn\s+conn of s1\s+\S+\s+\S+\s+open\s+ESTABLISHED\s+0 B\s+0 B\s+[\d.]+ ms\s+\d+\s+0\s+5 B\s+5 B/);
  });

  it('.ls --tcp and .tcp ask ss once for every socket, not once a row', async () => {
    const rig = await pair();
    await rig.ok('.connect srv --count 3');
    await until(() => rig.log.of('accept').length === 4, 3000, 'four accepts');
    const realSs = execFileSync('sh', ['-c', 'command -v ss'], { encoding: 'utf8' }).trim();
    const dir = tempDir();
    const calls = join(dir, 'calls');
    writeFileSync(join(dir, 'ss'), `#!/bin/sh\necho call >> '${calls}'\nexec '${realSs}' "$@"\n`);
    chmodSync(join(dir, 'ss'), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved ?? ''}`;
    track(() => void (process.env.PATH = saved));
    await rig.ok('.ls --tcp');
    expect(rig.printed.at(-1)!.split('\n').filter((l) => / ESTABLISHED /.test(l))).toHaveLength(8);
    expect(readFileSync(calls, 'utf8')).toBe('call\n');
    await rig.ok('.tcp');
    expect(readFileSync(calls, 'utf8')).toBe('call\ncall\n');
  });

  it.each(['.show c', '.ls --tcp'])('%s takes its snapshot after ss answers: bytes that came while ss ran are in it (review2 #10)', async (line) => {
    const rig = commandRig();
    await rig.ok('.listen 0 --reply echo as e');
    await rig.ok('.connect e as c');
    // An ss that says it started, then waits for the test to let it answer.
    const realSs = execFileSync('sh', ['-c', 'command -v ss'], { encoding: 'utf8' }).trim();
    const dir = tempDir();
    const started = join(dir, 'started');
    const go = join(dir, 'go');
    execFileSync('mkfifo', [go]);
    writeFileSync(join(dir, 'ss'), `#!/bin/sh\necho > '${started}'\ncat '${go}' > /dev/null\nexec '${realSs}' "$@"\n`);
    chmodSync(join(dir, 'ss'), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved ?? ''}`;
    track(() => void (process.env.PATH = saved));
    const showing = rig.ok(line);
    await until(() => existsSync(started), patience(10_000), 'ss started');
    await rig.ok('.send c hello');
    await rig.log.waitFor(is('data', 'c1'));
    writeFileSync(go, '');
    await showing;
    const text = rig.printed.at(-1)!;
    if (line === '.show c') expect(text).toMatch(/^received +5 B in 1 chunks$/m);
    else expect(text).toMatch(/^c1 .* 5 B +5 B +0 B /m);
  });

  it('a paused reader: the bytes wait in its recv-q, as the kernel counts them', async () => {
    const rig = await pair();
    await rig.ok('.pause conn');
    await rig.ok('.send client 0123456789');
    const key = keyOf(rig, 'conn');
    const deadline = Date.now() + patience(10_000);
    for (;;) {
      const view = await queryKernel([key]);
      if (view.ok && view.find(key)?.recvQ === 10) break;
      if (Date.now() > deadline) throw new Error('10 B never showed in recv-q');
    }
    expect((await show(rig, 'conn')).get('  queues')).toBe('recv-q 10 B not read yet, send-q 0 B not acknowledged');
  });

  it('.end client: FIN_WAIT2 on the client, CLOSE_WAIT on the server side; .end conn: the client waits in TIME_WAIT', async () => {
    const rig = await pair();
    await rig.ok('.end client');
    await rig.log.waitFor(is('end', 'c2'));
    await kernelState(rig, 'client', 'FIN_WAIT2');
    await kernelState(rig, 'conn', 'CLOSE_WAIT');
    expect((await show(rig, 'client')).get('kernel')).toBe('FIN_WAIT2  (ss)');
    rig.settings.explain = true;
    const conn = await show(rig, 'conn');
    expect(conn.get('kernel')).toBe('CLOSE_WAIT  (ss)');
    expect(conn.get('  why')).toBe(TCP_STATE_NOTES.CLOSE_WAIT);
    await rig.ok('.ls --tcp');
    const ls = rig.printed.at(-1)!;
    expect(ls).toMatch(/^c1 .* FIN_WAIT2 /m);
    expect(ls).toMatch(/^c2 .* CLOSE_WAIT /m);
    // With .explain on, each state in the table is explained once, below it.
    expect(ls).toContain(`     ↳ ${TCP_STATE_NOTES.FIN_WAIT2}`);
    expect(ls).toContain(`     ↳ ${TCP_STATE_NOTES.CLOSE_WAIT}`);
    rig.settings.explain = false;

    await rig.ok('.end conn');
    await rig.log.waitFor(is('close', 'c1'));
    await rig.log.waitFor(is('close', 'c2'));
    await kernelState(rig, 'client', 'TIME_WAIT');
    expect((await show(rig, 'client')).get('kernel')).toMatch(/^TIME_WAIT, \d+s left {2}\(ss\)$/);
    expect((await show(rig, 'conn')).get('kernel')).toMatch(
      /^gone: the kernel holds nothing for this connection on our side any more; the peer's side is in TIME_WAIT, \d+s left \(it sent FIN first, so it is the one that waits\)$/,
    );

    await rig.ok('.tcp');
    const lines = rig.printed.at(-1)!.split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['connection', 'waiting side → peer', 'left', 'who closed first']);
    const c1 = rig.ctx.session.getSocket('c1');
    expect(lines[1]).toMatch(new RegExp(`^c1 \\(client\\) ↔ c2 \\(conn\\)\\s+${c1.local.replaceAll('.', '\\.')} → ${c1.remote.replaceAll('.', '\\.')}\\s+\\d+s\\s+c1 sent FIN first: its side waits; c2 closed second and does not$`));
    expect(lines).toHaveLength(2);
  });

  it('.tcp before any connection, and while none is closed', async () => {
    const rig = commandRig();
    await rig.ok('.tcp');
    expect(rig.printed.at(-1)).toBe('no TCP connection in this session yet: .connect opens one');
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.log.waitFor(is('accept', 'c2'));
    await rig.ok('.tcp');
    expect(rig.printed.at(-1)).toBe('no connection of this session is in TIME_WAIT (1 checked; the kernel keeps one 60 s after a close, on the side that sent FIN first)');
  });
});

describe.runIf(HAS_SS && HAS_PYTHON)('against a Python peer', () => {
  it('the peer closes first: our side sits in CLOSE_WAIT (--half-open), then .tcp says the peer waits, not us', async () => {
    const peer = await pythonPeer();
    const rig = commandRig();
    await rig.ok(`.connect ${peer.port} --half-open as c`);
    await peer.accepted;
    await peer.ask('fin', ['closed']);
    await rig.log.waitFor(is('end', 'c1'));
    await kernelState(rig, 'c', 'CLOSE_WAIT');
    expect((await show(rig, 'c')).get('kernel')).toBe('CLOSE_WAIT  (ss)');
    await rig.ok('.close c');
    await rig.log.waitFor(is('close', 'c1'));
    await kernelState(rig, 'c1', 'TIME_WAIT', 'peer');
    expect((await show(rig, 'c1')).get('kernel')).toMatch(
      /^gone: the kernel holds nothing for this connection on our side any more; the peer's side is in TIME_WAIT, \d+s left \(it sent FIN first, so it is the one that waits\)$/,
    );
    await rig.ok('.tcp');
    const row = rig.printed.at(-1)!.split('\n')[1]!;
    expect(row).toMatch(new RegExp(`^c1 \\(c\\)\\s+127\\.0\\.0\\.1:${peer.port} → 127\\.0\\.0\\.1:\\d+\\s+\\d+s\\s+the peer sent FIN first: its side waits; c1 closed second and waits for nothing$`));
  });
});

describe.runIf(HAS_SS && IPV6)('IPv6 ::1', () => {
  it('the same view with bracketed addresses; .close client ends in TIME_WAIT on the client', async () => {
    const rig = await pair('.listen [::1]:0 as srv');
    expect((await show(rig, 'client')).get('kernel')).toBe('ESTABLISHED  (ss)');
    expect(rig.ctx.session.getSocket('c1').local).toMatch(/^\[::1\]:\d+$/);
    await rig.ok('.close client');
    await rig.log.waitFor(is('close', 'c1'));
    await rig.log.waitFor(is('close', 'c2'));
    await kernelState(rig, 'client', 'TIME_WAIT');
    await rig.ok('.tcp');
    expect(rig.printed.at(-1)!.split('\n')[1]).toMatch(/^c1 \(client\) ↔ c2 \(conn\)\s+\[::1\]:\d+ → \[::1\]:\d+\s+\d+s\s+c1 sent FIN first/);
  });
});

describe('without ss', () => {
  it('.show, .ls --tcp and .tcp each say so in one plain line; nothing else changes', async () => {
    const rig = await pair();
    const saved = process.env.PATH;
    process.env.PATH = tempDir();
    track(() => void (process.env.PATH = saved));
    const expected =
      process.platform === 'linux'
        ? "the kernel's view needs `ss` from iproute2 on Linux (no ss on PATH: install iproute2)"
        : `the kernel's view needs \`ss\` from iproute2 on Linux (this system is ${process.platform})`;
    const c1 = await show(rig, 'c1');
    expect(c1.get('kernel')).toBe(expected);
    expect(c1.get('state')).toBe('open');
    await rig.ok('.ls --tcp');
    const lines = rig.printed.at(-1)!.split('\n');
    expect(lines[0]).toBe(expected);
    expect(lines[3]).toMatch(/^c1\s+client\s+client\s+\S+\s+\S+\s+open\s+5 B/); // the kernel's cells are empty
    await rig.ok('.tcp');
    expect(rig.printed.at(-1)).toBe(expected);
    expect(rig.log.of('command-error')).toEqual([]);
  });
});

describe('hostile names and paths', () => {
  it('a Unix socket whose path holds escape codes: no TCP state, and the path is escaped in .show and .ls --tcp', async () => {
    const rig = commandRig();
    const path = join(tempDir(), 'x\x1b[2Jy.sock');
    rig.ctx.session.listen({ path });
    await rig.log.waitFor(is('listening'));
    rig.ctx.session.connect({ path });
    await rig.log.waitFor(is('accept'));
    const c2 = await show(rig, 'c2');
    expect(c2.get('kernel')).toBe('- (a Unix socket: no TCP state)');
    await rig.ok('.ls --tcp');
    for (const text of rig.printed) {
      expect(text).not.toContain('\x1b');
      expect(text).toContain('x\\x1b[2Jy.sock');
    }
  });

  it('an ss on PATH that prints escape codes in its error: the line reaches the screen escaped', async () => {
    const rig = await pair();
    const dir = tempDir();
    writeFileSync(join(dir, 'ss'), '#!/bin/sh\nprintf "\\033]0;pwned\\007\\033[2J boom\\n" >&2\nexit 2\n');
    chmodSync(join(dir, 'ss'), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:/bin:/usr/bin`;
    track(() => void (process.env.PATH = saved));
    await rig.ok('.show c1');
    await rig.ok('.tcp');
    if (process.platform !== 'linux') return;
    expect(rig.printed.at(-2)).toContain('kernel           ss failed: \\x1b]0;pwned\\x07\\x1b[2J boom');
    expect(rig.printed.at(-1)).toBe('ss failed: \\x1b]0;pwned\\x07\\x1b[2J boom');
    for (const text of rig.printed) expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });
});
