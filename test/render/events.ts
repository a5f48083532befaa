/**
 * One sample of every SessionEvent kind, for the pure renderer tests. Typed
 * as a total map, so a new event kind fails the typecheck until it has a sample.
 */
import type { EventOf, SessionEventType } from '../../src/session/events.js';

/** 2026-01-02 03:04:05.006 local time. */
export const T = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();

export const SAMPLES: { [K in SessionEventType]: EventOf<K> } = {
  listening: { type: 'listening', t: T, id: 's1', address: '127.0.0.1', port: 9000, reply: 'echo', exposed: false },
  connect: { type: 'connect', t: T, id: 'c1', local: '127.0.0.1:51234', remote: '127.0.0.1:9000' },
  accept: { type: 'accept', t: T, id: 'c2', server: 's1', local: '127.0.0.1:9000', remote: '127.0.0.1:51234' },
  send: { type: 'send', t: T, id: 'c1', data: Buffer.from('hello\n') },
  data: { type: 'data', t: T, id: 'c2', data: Buffer.from('hello\n') },
  message: { type: 'message', t: T, id: 'c2', data: Buffer.from('hello') },
  datagram: { type: 'datagram', t: T, id: 'u1', from: '127.0.0.1:5353', data: Buffer.from('hello') },
  relay: { type: 'relay', t: T, id: 'p1', from: 'c3', to: 'c4', dir: 'up', data: Buffer.from('GET / HTTP/1.1\r\n') },
  secure: {
    type: 'secure',
    t: T,
    id: 'c1',
    role: 'client',
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    alpn: 'h2',
    servername: 'localhost',
    authorized: false,
    authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    peerCertificate: {
      subject: 'CN=localhost',
      issuer: 'CN=localhost',
      validFrom: 'Jan  1 00:00:00 2026 GMT',
      validTo: 'Feb  1 00:00:00 2026 GMT',
      san: ['DNS:localhost', 'IP Address:127.0.0.1'],
      fingerprint: 'AB:CD',
      selfSigned: true,
    },
    reused: false,
  },
  end: { type: 'end', t: T, id: 'c2' },
  shutdown: { type: 'shutdown', t: T, id: 'c1' },
  stop: { type: 'stop', t: T, id: 's1', open: 2 },
  close: { type: 'close', t: T, id: 'c1', hadError: false, aborted: false },
  error: { type: 'error', t: T, id: 'c3', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' },
  timeout: { type: 'timeout', t: T, id: 'c2', ms: 3000, destroyed: true },
  command: { type: 'command', t: T, line: '.listen 0' },
  'command-error': { type: 'command-error', t: T, line: '.lisen 0', code: 'E_UNKNOWN_COMMAND', message: 'unknown command .lisen: did you mean .listen?' },
  'expect-ok': { type: 'expect-ok', t: T, id: 'c1', line: '.expect c1 PONG', received: Buffer.from('PONG\n') },
  'expect-fail': { type: 'expect-fail', t: T, id: 'c1', line: '.expect c1 PONG', received: Buffer.from('PING\n') },
  note: { type: 'note', t: T, id: 'c2', message: 'HTTP GET / (0 B body) → 200, 5 B' },
  rule: { type: 'rule', t: T, rule: 'r1', id: 'c2', command: '.sendln c2 "PONG 1"' },
};
