/**
 * `--frame` in the built CLI against peers socklab did not write (SPEC 12):
 * nc typing lines (CR LF and LF) into a `--frame line` server, python3
 * writing binary length prefixes in both byte orders and reading framed
 * replies, the `--json` stream of messages. Each block is skipped when its
 * tool is not installed.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, hasCommand, jsonEvents, runCli, spawnProcess, type RunningProcess } from '../helpers/cli.js';

afterEach(cleanupProcesses);

async function socklab(line: string): Promise<{ lab: RunningProcess; port: number }> {
  const lab = runCli(['--json', '-e', line], { keepStdin: true });
  const m = await lab.waitForStdout(/"event":"listening","id":"s1","address":"127\.0\.0\.1","port":(\d+)/, 10_000);
  return { lab, port: Number(m[1]) };
}

const messages = (lab: RunningProcess, id = 'c1'): Buffer[] =>
  jsonEvents(lab.stdout())
    .filter((e) => e.event === 'message' && e.id === id)
    .map((e) => Buffer.from(String(e.base64), 'base64'));

const isOpenBsdNc = (): boolean => hasCommand('nc') && /OpenBSD netcat/.test(spawnSync('nc', ['-h'], { encoding: 'utf8' }).stderr ?? '');

describe.skipIf(!isOpenBsdNc())('nc into a --frame line server', () => {
  it('CRLF and LF lines are messages, CR stripped; a last line with no LF is said at the FIN, never a message', async () => {
    const { lab, port } = await socklab('.listen 0 --frame line --reply "echo: {data}"');
    const nc = spawnProcess('nc', ['-N', '127.0.0.1', String(port)], { input: 'first\r\nsecond\nno end' });
    await lab.waitForStdout(/"event":"close","id":"c1"/, 20_000);
    expect(messages(lab).map((m) => m.toString())).toEqual(['first', 'second']);
    expect(lab.stdout()).toMatch(/"event":"note","id":"c1","message":"the peer ended its side with 6 B of an unfinished line message, never shown as a message"/);
    // Framed chunks are not in the JSON stream: their messages are.
    expect(jsonEvents(lab.stdout()).filter((e) => e.event === 'data')).toEqual([]);
    expect((await nc.waitForExit()).code).toBe(0);
    expect(nc.stdout()).toBe('echo: first\necho: second\n');
    lab.end();
    expect((await lab.waitForExit()).code).toBe(0);
  });
});

// python3 as the binary peer: it writes the prefixes with struct (its own byte-order code)
// and reads the framed replies the same way.
const PY_CLIENT = String.raw`
import socket, struct, sys
port, fmt = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(('127.0.0.1', port))
msgs = [b'one', b'', b'\x00\xff binary \x1b[31m', 'grüße'.encode()]
s.sendall(b''.join(struct.pack(fmt, len(m)) + m for m in msgs))
f = s.makefile('rb')
size = struct.calcsize(fmt)
for _ in msgs:
    n = struct.unpack(fmt, f.read(size))[0]
    print(f.read(n).hex(), flush=True)
s.close()
`;

describe.skipIf(!hasCommand('python3'))('python3 with binary length prefixes', () => {
  it.each([
    ['len16', '>H'],
    ['len16le', '<H'],
    ['len32', '>I'],
    ['len32le', '<I'],
    ['len8', 'B'],
  ])('--frame %s: one sendall of four messages is four messages, each echoed as one framed reply', async (spec, fmt) => {
    const { lab, port } = await socklab(`.listen 0 --frame ${spec} --reply echo`);
    const py = spawnProcess('python3', ['-c', PY_CLIENT, String(port), fmt]);
    const exit = await py.waitForExit(20_000);
    expect(py.stderr()).toBe('');
    expect(exit.code).toBe(0);
    const want = [Buffer.from('one'), Buffer.alloc(0), Buffer.from('\u0000\u00ff binary \u001b[31m', 'latin1'), Buffer.from('grüße')];
    expect(py.stdout().trim().split('\n')).toEqual(want.map((m) => m.toString('hex')));
    await lab.waitForStdout(/"event":"close","id":"c1"/, 20_000);
    expect(messages(lab)).toEqual(want);
    lab.end();
    expect((await lab.waitForExit()).code).toBe(0);
  });
});
