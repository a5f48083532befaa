/**
 * The teaching commands on real loopback sockets: `.timeline` (through
 * runCommandLine), `.explain` and `.attach` (through the built CLI, where the
 * HumanPrinter draws the ↳ lines and scripts have no REPL).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { explainEvent } from '../../src/render/explain.js';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, peerClient, receive, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

/** The last thing a command printed. */
const lastPrinted = (printed: string[]): string => printed.at(-1) ?? '(nothing printed)';

/** An echo server and a client that said hello and heard it back: c1 (alice) ↔ c2 (conn). */
async function helloExchange() {
  const rig = commandRig();
  await rig.ok('.listen 0 --reply echo as srv');
  await rig.ok('.connect srv as alice');
  await rig.ok('.wait srv accept as conn');
  await rig.ok('.sendln alice hello');
  await rig.ok('.expect alice hello\\n');
  return rig;
}

describe('.timeline', () => {
  it('after a small exchange: both sockets as columns, the connect and the bytes each way with their counts', async () => {
    const rig = await helloExchange();
    await rig.ok('.timeline');
    const lines = lastPrinted(rig.printed).split('\n');
    expect(lines[0]).toBe('          c1                    c2');
    expect(lines.slice(1)).toEqual([
      '           │────── connect ──────▶',
      '           │─── 6 B "hello\\n" ───▶',
      '           ◀─── 6 B "hello\\n" ───│',
    ]);
  });

  it('FIN and close are drawn after .end', async () => {
    const rig = await helloExchange();
    await rig.ok('.end alice');
    await rig.ok('.wait alice close');
    await rig.ok('.wait conn close');
    await rig.ok('.timeline');
    const text = lastPrinted(rig.printed);
    expect(text).toContain('           │╌╌╌╌╌╌╌╌ FIN ╌╌╌╌╌╌╌╌▶');
    expect(text).toContain('           ◀╌╌╌╌╌╌╌╌ FIN ╌╌╌╌╌╌╌╌│');
    expect(text.match(/\[closed\]/g)).toHaveLength(2);
  });

  it('.timeline c1 draws only the steps of c1 (a second client and its connection are left out)', async () => {
    const rig = await helloExchange();
    await rig.ok('.connect srv as bob');
    await rig.ok('.wait srv accept');
    await rig.ok('.sendln bob from bob');
    await rig.ok('.expect bob from bob\\n');
    await rig.ok('.timeline');
    expect(lastPrinted(rig.printed).split('\n')[0]).toBe('          c1                    c2                    c3                    c4');
    expect(lastPrinted(rig.printed)).toContain('9 B "from bob\\n"');

    await rig.ok('.timeline c1');
    const only = lastPrinted(rig.printed);
    expect(only.split('\n')[0]).toBe('          c1                    c2');
    expect(only).not.toMatch(/c3|c4|from bob/);
    expect(only).toContain('6 B "hello\\n"');
    // Aliases name the same sockets.
    await rig.ok('.timeline alice');
    expect(lastPrinted(rig.printed)).toBe(only);
  });

  it('a peer outside the session is a column named by its address', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --reply echo as srv');
    const port = rig.log.of('listening', 's1')[0]!.port!;
    const client = await peerClient(port);
    await rig.ok('.wait srv accept');
    const echoed = receive(client, 'ping\n');
    client.write('ping\n');
    await echoed;
    await rig.ok('.timeline');
    const lines = lastPrinted(rig.printed).split('\n');
    expect(lines[0]?.trim().split(/\s+/)).toEqual([`127.0.0.1:${client.localPort}`, 'c1']);
    expect(lines.slice(2)).toEqual(['           │─── 5 B "ping\\n" ────▶', '           ◀─── 5 B "ping\\n" ────│']);
  });

  it('--mermaid prints a sequenceDiagram of the same story', async () => {
    const rig = await helloExchange();
    await rig.ok('.timeline --mermaid');
    expect(lastPrinted(rig.printed)).toBe(
      ['sequenceDiagram', '    participant c1', '    participant c2', '    c1->>c2: connect', '    c1->>c2: 6 B #34;hello\\n#34;', '    c2->>c1: 6 B #34;hello\\n#34;'].join('\n'),
    );
  });

  it('before anything happened it says so; an unknown id is an error with its code', async () => {
    const rig = commandRig();
    await rig.ok('.timeline');
    expect(lastPrinted(rig.printed)).toBe('nothing to draw yet: connect something and send a few bytes');
    const error = await rig.fail('.timeline c9');
    expect(error.code).toBe('E_UNKNOWN_ID');
    expect(error.message).toMatch(/^no endpoint "c9"/);
  });
});

describe('.explain', () => {
  it('on: events print a ↳ line under them (data once per socket); off: no more', async () => {
    const cli = runCli(['--no-time'], {
      input: [
        '.explain on',
        '.listen 0 --reply echo',
        '.connect s1',
        '.wait s1 accept',
        '.sendln c1 one',
        '.expect c1 one',
        '.sendln c1 two',
        '.expect c1 two',
        '.explain off',
        '.end c1',
        '.wait c1 close',
      ].join('\n'),
    });
    expect(await cli.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    const lines = cli.stdout().split('\n');
    const after = (line: string): string | undefined => lines[lines.indexOf(line) + 1];
    expect(lines[0]).toBe('explanations on');
    expect(lines[1]).toMatch(/^s1 {3}listening on 127\.0\.0\.1:\d+ {2}\(reply: echo\)$/);
    expect(lines[2]).toBe(`     ↳ ${explainEvent({ type: 'listening', t: 0, id: 's1', address: '', exposed: false })!}`);
    expect(lines.find((l) => l.startsWith('c2   accepted by s1'))).toBeDefined();
    expect(after('c1   → 4 B  "one\\n"')).toMatch(/^ {5}↳ Handed to the socket/);
    expect(after('c2   ← 4 B  "one\\n"')).toMatch(/^ {5}↳ Bytes arrived \('data' event\)/);
    // The second chunk on the same sockets is not explained again.
    expect(after('c1   → 4 B  "two\\n"')).toBe('c2   ← 4 B  "two\\n"');
    expect(after('c1   ← 4 B  "two\\n"')).toBe('c1   expect ok: .expect c1 two');
    // After .explain off: the FIN and close lines stand alone.
    expect(lines).toContain('explanations off');
    const tail = lines.slice(lines.indexOf('explanations off'));
    expect(tail).toContain('c1   → FIN (we ended our side; still reading)');
    expect(tail.filter((l) => l.includes('↳'))).toEqual([]);
  });

  it('explains a refused connection', async () => {
    const cli = runCli(['--no-time', '-e', '.explain on', '-e', '.connect 127.0.0.1:1', '--exit']);
    await cli.waitForExit(10_000);
    const lines = cli.stdout().split('\n');
    const at = lines.findIndex((l) => l.startsWith('c1   error ECONNREFUSED'));
    expect(at, cli.stdout()).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('     ↳ The other host answered our SYN with RST: no program listens on that port. Start a server there, or check host and port.');
  });

  it('.explain with no argument toggles; anything but on/off is a usage error', async () => {
    const rig = commandRig();
    await rig.ok('.explain');
    expect(rig.settings.explain).toBe(true);
    await rig.ok('.explain');
    expect(rig.settings.explain).toBe(false);
    const error = await rig.fail('.explain loud');
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toBe('.explain takes on or off (or a TCP state such as TIME_WAIT), not "loud"');
  });
});

describe('.attach outside the REPL', () => {
  it('a script that attaches is refused at that line with a clear message, exit 1, nothing after it runs', async () => {
    const file = join(tempDir(), 'attach.lab');
    writeFileSync(file, ['.listen 0 --reply echo', '.connect s1', '.attach c1', '.sendln c1 never'].join('\n'));
    const cli = runCli(['--no-time', file]);
    expect(await cli.waitForExit(10_000)).toEqual({ code: 1, signal: null });
    expect(cli.stdout()).toContain(`!    ${file}:3: .attach works in the interactive REPL only; scripts use .sendln\n`);
    expect(cli.stdout()).not.toContain('never');
  });

  it('in a command context without a REPL: E_USAGE; .detach says there is nothing to detach', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    const error = await rig.fail('.attach c1');
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toBe('.attach works in the interactive REPL only; scripts use .sendln');
    await rig.ok('.detach');
    expect(lastPrinted(rig.printed)).toBe('not attached to anything');
  });

  it('with a REPL: attaching to an unknown id or a socket that ended is refused', async () => {
    const rig = commandRig({ interactive: false });
    const attached: string[] = [];
    rig.ctx.repl = { attach: (ep) => void attached.push(ep.id), detach: () => undefined };
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    expect((await rig.fail('.attach c9')).code).toBe('E_UNKNOWN_ID');
    const server = await rig.fail('.attach s1');
    expect(server.code).toBe('E_USAGE');
    expect(server.message).toBe('s1 is a server: this needs a socket (c1, c2, …)');
    await rig.ok('.attach c1');
    expect(attached).toEqual(['c1']);
    expect(lastPrinted(rig.printed)).toBe('attached to c1: lines you type go to it (.detach or Ctrl+] to return)');
    await rig.ok('.end c1');
    const error = await rig.fail('.attach c1');
    expect(error.code).toBe('E_STATE');
    expect(error.message).toMatch(/^cannot attach to c1: it is /);
    expect(attached).toEqual(['c1']);
  });
});

describe('what the lessons teach, checked on the wire', () => {
  /** An idle-timeout server (the idle-timeout lesson) whose connection c2 timed out; c1 is the quiet client. */
  async function idleTimedOut() {
    const rig = commandRig();
    await rig.ok('.listen 0 --timeout 100ms as srv');
    await rig.ok('.connect srv as quiet');
    await rig.ok('.wait srv accept as conn');
    await rig.ok('.wait conn timeout');
    await rig.ok('.wait quiet close');
    return rig;
  }

  it('an idle timeout destroys a connection with nothing unread: the peer sees a FIN, not a reset', async () => {
    const rig = await idleTimedOut();
    expect(rig.log.of('end', 'c1')).toHaveLength(1);
    expect(rig.log.of('error', 'c1')).toEqual([]);
    expect(rig.log.of('close', 'c1')[0]).toMatchObject({ hadError: false });
  });

  // The idle-timeout handler calls socket.destroy(): a FIN when nothing is
  // unread, not an RST (.destroy uses resetAndDestroy).
  it('.timeline draws the idle-timeout close as the FIN the peer saw, not as an RST', async () => {
    const rig = await idleTimedOut();
    await rig.ok('.timeline');
    const text = lastPrinted(rig.printed);
    expect(text).toContain('◀╌╌╌╌╌╌╌╌ FIN ╌╌╌╌╌╌╌╌│');
    expect(text).not.toContain('RST');
  });

  // socket.pause() alone stops 'data' but not reading from the kernel (Node
  // buffers up to 16 KiB): typed by hand, the three writes would arrive as three.
  it('.pause keeps bytes in the kernel: three writes typed one by one arrive as one chunk after .resume', async () => {
    const rig = commandRig();
    await rig.ok(".listen 0 --reply '<{data}>' as srv");
    await rig.ok('.connect srv as client');
    await rig.ok('.wait srv accept as conn');
    await rig.ok('.pause conn');
    // The sleeps are the scenario (a person typing the next line), not a wait for an event.
    for (const word of ['one', 'two', 'three']) {
      await rig.ok(`.send client ${word}`);
      await rig.ok('.sleep 50ms');
    }
    await rig.ok('.resume conn');
    await rig.ok('.expect conn three');
    expect(rig.log.of('data', 'c2').map((ev) => ev.data.toString())).toEqual(['onetwothree']);
  });
});
