/**
 * examples/framing.lab (issue 14, SPEC 12): the sticky-packets lesson
 * solved. Run as a script (its server moved to port 0) it must pass and show
 * three messages from one chunk; its server line, run in a long-lived
 * `socklab --json -e LINE`, must frame for real peers: python3 writing three
 * len16 messages in one sendall, and a Node client writing one message a
 * byte at a time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage, parseFrameSpec } from '../../src/protocols/framing.js';
import { cleanupLessons, connectClient, eventsOf, hasTool, lessonSource, runLesson, serveLesson, start, withListenPort } from '../helpers/lessons.js';

afterEach(cleanupLessons);

const OK = { code: 0, signal: null };
const len16 = (...messages: string[]): Buffer => Buffer.concat(messages.map((m) => encodeMessage(parseFrameSpec('len16'), Buffer.from(m))));

describe('framing.lab as a script', () => {
  it('one chunk of three messages shows as three messages and three replies; one message in chunks shows once', async () => {
    const { exit, proc } = await runLesson('framing', withListenPort(lessonSource('framing'), 0));
    expect(exit, proc.describe()).toEqual(OK);
    const out = proc.stdout();
    const conn = out.split('\n').filter((l) => /^c2 +← msg/.test(l));
    expect(conn, out).toEqual(['c2   ← msg 3 B  "one"', 'c2   ← msg 3 B  "two"', 'c2   ← msg 5 B  "three"', 'c2   ← msg 10 B  "HelloWorld"']);
    const client = out.split('\n').filter((l) => /^c1 +← msg/.test(l));
    expect(client, out).toEqual(['c1   ← msg 5 B  "<one>"', 'c1   ← msg 5 B  "<two>"', 'c1   ← msg 7 B  "<three>"', 'c1   ← msg 12 B  "<HelloWorld>"']);
    // No chunk line on a framed socket: the chunks that ended inside HelloWorld show nothing.
    expect(out).not.toMatch(/^c[12] +← \d+ B/m);
  });
});

// One sendall of three len16 messages, then read the three framed replies.
const PY_CLIENT = String.raw`
import socket, struct, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b''.join(struct.pack('>H', len(m)) + m for m in [b'one', b'two', b'three']))
f = s.makefile('rb')
for _ in range(3):
    n = struct.unpack('>H', f.read(2))[0]
    print(f.read(n).decode(), flush=True)
s.close()
`;

describe('framing.lab against real peers', () => {
  it.skipIf(!hasTool('python3'))('python3: one sendall of three len16 messages is three messages, three framed replies', async () => {
    const srv = await serveLesson('framing');
    expect(srv.line).toBe(".listen 0 --frame len16 --reply '<{data}>' as srv");
    const py = start('python3', ['-c', PY_CLIENT, String(srv.port)]);
    expect(await py.waitForExit(20_000), py.describe()).toEqual(OK);
    expect(py.stdout()).toBe('<one>\n<two>\n<three>\n');
    await srv.proc.waitFor('three messages', () => eventsOf(srv.proc, 'message').length >= 3);
    expect(eventsOf(srv.proc, 'message').map((e) => e.text)).toEqual(['one', 'two', 'three']);
    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
  });

  it('a Node client writing one message a byte at a time: one message, one reply', async () => {
    const srv = await serveLesson('framing');
    const client = await connectClient(srv.address, srv.port);
    const wire = len16('HelloWorld');
    // Twelve writes (the kernel may still join some of them; the in-process tests pin one chunk per byte).
    for (const byte of wire) client.socket.write(Buffer.of(byte));
    expect((await client.waitForBytes(14)).equals(len16('<HelloWorld>'))).toBe(true);
    // The reply on the socket and the event line on stdout reach this process by two paths, in either order.
    await srv.proc.waitFor('the message', () => eventsOf(srv.proc, 'message').length >= 1);
    expect(eventsOf(srv.proc, 'message').map((e) => e.text)).toEqual(['HelloWorld']);
    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
  });
});
