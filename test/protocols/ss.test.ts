/**
 * The `ss -tinoH` parser on outputs of the real ss (iproute2 6.1, Linux 6,
 * recorded in test/fixtures/ss/ from Python sockets on loopback: a peer that
 * does not read, half-closes, a full accept queue, keep-alive timers) and on
 * one live run of ss, plus lines it must refuse.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSs, parseSsAddress, parseSsTime, parseSsTimer, parseSummary } from '../../src/protocols/ss.js';
import { hasCommand } from '../helpers/cli.js';
import { closeAll, track } from '../helpers/loopback.js';

afterEach(closeAll);

const FIXTURES = fileURLToPath(new URL('../fixtures/ss/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, `${name}.txt`), 'utf8');
const HAS_SS = process.platform === 'linux' && hasCommand('ss');

describe('recorded outputs of ss -tinoH', () => {
  it('ESTABLISHED both ways: queues, rtt/rttvar, cwnd; the reader that did not read has 5000 B in recv-q', () => {
    const { sockets, unreadable } = parseSs(fixture('established'));
    expect(unreadable).toBe(0);
    expect(sockets).toEqual([
      { state: 'ESTABLISHED', recvQ: 0, sendQ: 0, local: { host: '127.0.0.1', port: 34534 }, peer: { host: '127.0.0.1', port: 52109 }, rttMs: 0.037, rttVarMs: 0.02, cwnd: 11 },
      { state: 'ESTABLISHED', recvQ: 5000, sendQ: 0, local: { host: '127.0.0.1', port: 52109 }, peer: { host: '127.0.0.1', port: 34534 }, rttMs: 0.025, rttVarMs: 0.012, cwnd: 10 },
    ]);
  });

  it('a half-close: FIN_WAIT2 on the side that sent FIN, CLOSE_WAIT on the other', () => {
    const { sockets } = parseSs(fixture('finwait2_closewait'));
    expect(sockets.map((s) => [s.state, s.recvQ, s.rttMs, s.rttVarMs])).toEqual([
      ['FIN_WAIT2', 0, 5.64, 11.222],
      ['CLOSE_WAIT', 5001, 0.025, 0.012],
    ]);
  });

  it('TIME_WAIT: the timer says how long is left, and there are no -i details', () => {
    const [s, ...rest] = parseSs(fixture('timewait')).sockets;
    expect(rest).toEqual([]);
    expect(s).toEqual({ state: 'TIME_WAIT', recvQ: 0, sendQ: 0, local: { host: '127.0.0.1', port: 34534 }, peer: { host: '127.0.0.1', port: 52109 }, timer: { name: 'timewait', ms: 59_000, retries: 0 } });
  });

  it('IPv6: brackets dropped, wildcard port of a listener undefined', () => {
    const { sockets } = parseSs(fixture('ipv6'));
    expect(sockets.map((s) => [s.state, s.local, s.peer])).toEqual([
      ['LISTEN', { host: '::1', port: 45463 }, { host: '::', port: undefined }],
      ['ESTABLISHED', { host: '::1', port: 45463 }, { host: '::1', port: 41638 }],
      ['ESTABLISHED', { host: '::1', port: 41638 }, { host: '::1', port: 45463 }],
    ]);
    expect(parseSs(fixture('ipv6_timewait')).sockets[1]).toMatchObject({ state: 'TIME_WAIT', local: { host: '::1', port: 41638 } });
  });

  it('SYN_SENT to a full accept queue: the retransmit timer, unacked and retrans 1/1; the listener counts one waiting', () => {
    const { sockets } = parseSs(fixture('synsent_backlog'));
    expect(sockets[0]).toMatchObject({ state: 'LISTEN', recvQ: 1, sendQ: 0, unacked: 1 });
    const syn = sockets.filter((s) => s.state === 'SYN_SENT');
    expect(syn).toHaveLength(2);
    expect(syn[0]).toMatchObject({ sendQ: 1, cwnd: 1, unacked: 1, retrans: { now: 1, total: 1 }, timer: { name: 'on', ms: 504, retries: 1 } });
    expect(syn[0]!.rttMs).toBeUndefined();
  });

  it('FIN_WAIT1 behind 4 MB the peer will not read: send-q, the zero-window probe timer, retrans 0/1', () => {
    const { sockets } = parseSs(fixture('finwait1'));
    const fw1 = sockets.find((s) => s.state === 'FIN_WAIT1');
    expect(fw1).toMatchObject({ sendQ: 4083201, timer: { name: 'persist', ms: 40, retries: 0 }, retrans: { now: 0, total: 1 }, cwnd: 15 });
    expect(sockets.find((s) => s.state === 'ESTABLISHED')?.recvQ).toBe(113152);
  });

  it('keep-alive timers in the three shapes ss prints: 4.888ms (4.888 s), 1min4sec, 10min', () => {
    const timers = parseSs(fixture('keepalive')).sockets.map((s) => s.timer);
    expect(timers).toEqual([
      { name: 'keepalive', ms: 4888, retries: 0 },
      { name: 'keepalive', ms: 64_000, retries: 0 },
      { name: 'keepalive', ms: 600_000, retries: 0 },
    ]);
  });
});

describe('the pieces', () => {
  it('times as print_ms_timer writes them', () => {
    expect(parseSsTime('52sec')).toBe(52_000);
    expect(parseSsTime('040ms')).toBe(40);
    expect(parseSsTime('7ms')).toBe(7);
    expect(parseSsTime('4.888ms')).toBe(4888);
    expect(parseSsTime('1min4sec')).toBe(64_000);
    expect(parseSsTime('12min')).toBe(720_000);
    for (const bad of ['', 'sec', '1h', '5.ms', '-3sec', '1min4', `${'9'.repeat(40)}sec`]) expect(parseSsTime(bad), bad).toBeUndefined();
  });

  it('timers and addresses it refuses', () => {
    expect(parseSsTimer('timer:(timewait,52sec,0)')).toEqual({ name: 'timewait', ms: 52_000, retries: 0 });
    expect(parseSsTimer('timer:(timewait,52sec)')).toBeUndefined();
    expect(parseSsTimer('timer:(TIME\x1bWAIT,52sec,0)')).toBeUndefined();
    expect(parseSsAddress('127.0.0.1%lo:53')).toEqual({ host: '127.0.0.1', port: 53 });
    expect(parseSsAddress('[::FFFF:127.0.0.1]:80')).toEqual({ host: '::ffff:127.0.0.1', port: 80 });
    expect(parseSsAddress('*:*')).toEqual({ host: '*', port: undefined });
    for (const bad of ['', ':80', '127.0.0.1', 'host.example:80', '127.0.0.1:99999', '1.2.3.4:http', '\x1b[31m:80']) expect(parseSsAddress(bad), bad).toBeUndefined();
  });

  it('lines that are not ss summaries are counted, not guessed; their details are dropped with them', () => {
    const text = [
      'Netid State Recv-Q',
      'ESTAB 0 0 127.0.0.1:1 127.0.0.1:2',
      '\t rtt:1.5/0.5 cwnd:7 retrans:0/3',
      'BOGUS 0 0 127.0.0.1:1 127.0.0.1:2',
      '\t rtt:9/9 cwnd:99',
      'ESTAB x 0 127.0.0.1:1 127.0.0.1:2',
      '\x1b]0;pwned\x07 0 0 1.1.1.1:1 2.2.2.2:2',
      'ESTAB 0 0 127.0.0.1:3 127.0.0.1:4',
      '\t rtt:abc/0.5 cwnd:-1 retrans:x/y',
      '',
    ].join('\n');
    const { sockets, unreadable } = parseSs(text);
    expect(unreadable).toBe(4);
    expect(sockets).toEqual([
      { state: 'ESTABLISHED', recvQ: 0, sendQ: 0, local: { host: '127.0.0.1', port: 1 }, peer: { host: '127.0.0.1', port: 2 }, rttMs: 1.5, rttVarMs: 0.5, cwnd: 7, retrans: { now: 0, total: 3 } },
      // The details of the unreadable lines did not land on the one before them.
      { state: 'ESTABLISHED', recvQ: 0, sendQ: 0, local: { host: '127.0.0.1', port: 3 }, peer: { host: '127.0.0.1', port: 4 }, rttVarMs: 0.5 },
    ]);
    expect(parseSummary('Object.prototype 0 0 127.0.0.1:1 127.0.0.1:2')).toBeUndefined();
    expect(parseSummary('constructor 0 0 127.0.0.1:1 127.0.0.1:2')).toBeUndefined();
  });
});

describe('a live run of ss', () => {
  it.skipIf(!HAS_SS)('reads what the real ss says about a connection Node holds open', async () => {
    const server = net.createServer((s) => track(() => void s.destroy()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    track(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    track(() => void client.destroy());
    await once(client, 'connect');
    const { stdout } = await promisify(execFile)('ss', ['-tinoH', 'state', 'all', `( src 127.0.0.1:${client.localPort} and dst 127.0.0.1:${port} )`]);
    const { sockets, unreadable } = parseSs(stdout);
    expect(unreadable).toBe(0);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toMatchObject({ state: 'ESTABLISHED', recvQ: 0, sendQ: 0, local: { port: client.localPort }, peer: { port } });
    expect(sockets[0]!.cwnd).toBeGreaterThan(0);
    expect(sockets[0]!.rttMs).toBeGreaterThan(0);
  });
});
