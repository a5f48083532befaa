/**
 * Review item 8: peer bytes in HTTP error lines are shown as every data line
 * shows them (UTF-8; controls and invalid bytes escaped: one table), not as
 * Latin-1 mojibake, and the 400 body sent back never reflects the peer's raw
 * control bytes. The peer is python3 sending exact bytes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is } from '../helpers/loopback.js';

const run = promisify(execFile);
afterEach(closeAll);

// Sends argv[2] (hex) and prints the answer as hex once the server closes.
const CLIENT = String.raw`
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(bytes.fromhex(sys.argv[2]))
got = b''
while True:
    b = s.recv(65536)
    if not b: break
    got += b
print(got.hex())
`;

async function answerTo(request: Buffer): Promise<{ answer: Buffer; errors: string[] }> {
  const rig = commandRig();
  await rig.ok(`.listen 0 --http --reply 'You said {data}'`);
  const { port } = await rig.log.waitFor(is('listening'));
  const { stdout } = await run('python3', ['-c', CLIENT, String(port), request.toString('hex')]);
  await rig.log.waitFor(is('close', 'c1'));
  return { answer: Buffer.from(stdout.trim(), 'hex'), errors: rig.log.of('error', 'c1').map((e) => e.message) };
}

describe('peer bytes in a bad HTTP request', () => {
  it('a request line with ESC, BEL, U+202E and an invalid byte', async () => {
    const { answer, errors } = await answerTo(Buffer.from('GET /\x1b]0;OWN\x07\xe2\x80\xae\xff HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'));
    expect(errors).toEqual(['HTTP 400: bad request line "GET /\\x1b]0;OWN\\x07\\u{202e}\\xff HTTP/1.1": expected METHOD TARGET HTTP/1.1']);
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const body = answer.subarray(answer.indexOf('\r\n\r\n') + 4);
    expect(body.toString('utf8')).toBe('bad request line "GET /\\x1b]0;OWN\\x07\\u{202e}\\xff HTTP/1.1": expected METHOD TARGET HTTP/1.1\n');
    expect([...body].filter((b) => b < 0x20 && b !== 0x0a)).toEqual([]);
  });

  it('UTF-8 text in a bad header line stays readable; a control byte is escaped', async () => {
    const { answer, errors } = await answerTo(Buffer.from('GET / HTTP/1.1\r\ncafé\x1b\r\n\r\n', 'utf8'));
    expect(errors).toEqual(['HTTP 400: bad header line "café\\x1b": expected NAME: VALUE']);
    expect(answer.includes(Buffer.from('bad header line "café\\x1b"', 'utf8'))).toBe(true);
    expect(answer.includes(0x1b)).toBe(false);
  });
});
