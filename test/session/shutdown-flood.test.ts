/**
 * Review item 5: `.exit` or a signal while a peer floods. A socket closed with
 * bytes unread, or still receiving, is answered by Linux with an RST; socklab
 * must say so, and a peer that stops sending and reads must see our FIN.
 * Checked from a Python peer (its socket module reports what the kernel does).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import pc from 'picocolors';
import type { SocketEndpoint } from '../../src/endpoints/tcp-types.js';
import { formatEvent } from '../../src/render/human.js';
import { closeAll, is, newSession, track } from '../helpers/loopback.js';

afterEach(closeAll);
const plain = { time: false, colors: pc.createColors(false) };

// flood: sendall forever; burst: send 200 KB, then read to the end. Prints what the kernel said.
const CLIENT = String.raw`
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print('connected', flush=True)
try:
    if sys.argv[2] == 'flood':
        while True: s.sendall(b'x' * 65536)
    s.sendall(b'x' * 200000); print('sent', flush=True)
    while s.recv(65536): pass
    print('EOF', flush=True)
except (ConnectionResetError, BrokenPipeError) as e:
    print('RESET', type(e).__name__, flush=True)
`;

function pythonClient(port: number, mode: 'flood' | 'burst'): { lines: string[]; said(prefix: string): Promise<string> } {
  const child = spawn('python3', ['-u', '-c', CLIENT, String(port), mode]);
  track(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await once(child, 'exit');
    }
  });
  const lines: string[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
    child.emit('line');
  });
  const said = async (prefix: string): Promise<string> => {
    for (;;) {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found !== undefined) return found;
      if (child.exitCode !== null) throw new Error(`python exited; said: ${lines.join(' | ')}`);
      await Promise.race([once(child, 'line'), once(child, 'exit')]);
    }
  };
  return { lines, said };
}

describe('shutdown while a peer is sending', () => {
  it('a peer still flooding when the grace ends is reset, and the close line says so', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0, reply: 'echo' });
    await s1.ready;
    const py = pythonClient((s1.server.address() as AddressInfo).port, 'flood');
    await py.said('connected');
    await log.waitFor(is('data', 'c1'));
    await session.shutdown(300);
    expect(await py.said('RESET')).toMatch(/^RESET (ConnectionResetError|BrokenPipeError)$/);
    const close = log.of('close', 'c1');
    expect(close).toEqual([expect.objectContaining({ stillSending: true, reset: true })]);
    expect(formatEvent(close[0]!, plain)).toContain('reset: the peer was still sending when the grace ended');
  });

  it('a peer that stopped sending and reads sees our FIN, and no reset is claimed', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    const py = pythonClient((s1.server.address() as AddressInfo).port, 'burst');
    await log.waitFor(is('accept', 'c1'));
    session.pause(session.get('c1') as SocketEndpoint, true);
    await py.said('sent');
    await session.shutdown(300);
    expect(await py.said('EOF')).toBe('EOF');
    const close = log.of('close', 'c1');
    expect(close).toHaveLength(1);
    expect(close[0]).not.toHaveProperty('stillSending');
    expect(close[0]).not.toHaveProperty('reset');
  });
});
