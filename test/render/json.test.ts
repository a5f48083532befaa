import { describe, expect, it } from 'vitest';
import { jsonPrinter, toJsonLine } from '../../src/render/json.js';
import type { SessionEvent, SessionEventType } from '../../src/session/events.js';
import { SAMPLES, T } from './events.js';

const parse = (ev: SessionEvent): Record<string, unknown> => JSON.parse(toJsonLine(ev) ?? 'null') as Record<string, unknown>;

/**
 * SPEC section 5: every object has `t`, `event`, and `id` where an endpoint
 * is concerned, plus the listed fields. Kinds the SPEC does not list
 * (shutdown, stop, note) are additions, as SPEC section 9 allows.
 */
const FIELDS: { [K in SessionEventType]: string[] | null } = {
  listening: ['id', 'address', 'port'],
  connect: ['id', 'local', 'remote'],
  accept: ['id', 'server', 'local', 'remote'],
  send: ['id', 'bytes', 'base64'],
  data: ['id', 'bytes', 'base64', 'text'],
  message: ['id', 'bytes', 'base64', 'text'],
  datagram: ['id', 'from', 'bytes', 'base64', 'text'],
  relay: ['id', 'from', 'to', 'dir', 'bytes', 'base64', 'text'],
  secure: ['id', 'role', 'protocol', 'cipher', 'alpn', 'servername', 'authorized', 'authorizationError', 'peerCertificate', 'reused'],
  end: ['id'],
  close: ['id', 'hadError'],
  error: ['id', 'code', 'message'],
  timeout: ['id', 'ms'],
  command: ['line'],
  // `code` (E_USAGE…) is added to SPEC's line and message, so CI can tell failures apart.
  'command-error': ['line', 'code', 'message'],
  'expect-ok': ['id', 'line', 'received'],
  'expect-fail': ['id', 'line', 'received'],
  shutdown: ['id'],
  stop: ['id', 'open'],
  note: ['id', 'message'],
  rule: ['rule', 'id', 'command'],
};

describe('toJsonLine: the field set of every event kind', () => {
  it.each(Object.keys(SAMPLES) as SessionEventType[])('%s', (type) => {
    const obj = parse(SAMPLES[type]);
    expect(Object.keys(obj).sort()).toEqual(['t', 'event', ...(FIELDS[type] ?? [])].sort());
    expect(obj.t).toBe(T);
    expect(obj.event).toBe(type);
  });
});

describe('toJsonLine: values', () => {
  it('listening: port for TCP, path for a Unix socket, alias when given', () => {
    expect(parse(SAMPLES.listening)).toEqual({ t: T, event: 'listening', id: 's1', address: '127.0.0.1', port: 9000 });
    const unix = parse({ ...SAMPLES.listening, address: '/tmp/x.sock', port: undefined, path: '/tmp/x.sock', alias: 'srv' });
    expect(unix).toEqual({ t: T, event: 'listening', id: 's1', address: '/tmp/x.sock', path: '/tmp/x.sock', alias: 'srv' });
  });

  it('connect keeps its alias; accept has server, local, remote strings', () => {
    expect(parse({ ...SAMPLES.connect, alias: 'alice' })).toMatchObject({ alias: 'alice', local: '127.0.0.1:51234', remote: '127.0.0.1:9000' });
    expect(parse(SAMPLES.accept)).toMatchObject({ id: 'c2', server: 's1', local: '127.0.0.1:9000', remote: '127.0.0.1:51234' });
  });

  it('data and send: byte count, base64 of the exact bytes, lossy UTF-8 text', () => {
    const bytes = Buffer.from([0x68, 0x69, 0x00, 0x1b, 0xff, 0x0a]);
    const obj = parse({ type: 'data', t: T, id: 'c1', data: bytes });
    expect(obj).toEqual({ t: T, event: 'data', id: 'c1', bytes: 6, base64: bytes.toString('base64'), text: 'hi\u0000\u001b\ufffd\n' });
    expect(Buffer.from(obj.base64 as string, 'base64')).toEqual(bytes);
    expect(parse({ type: 'send', t: T, id: 'c1', data: Buffer.from('你好') })).toEqual({ t: T, event: 'send', id: 'c1', bytes: 6, base64: '5L2g5aW9' });
  });

  it('UDP: listening says kind udp, a datagram names its sender, a send its destination', () => {
    expect(parse({ ...SAMPLES.listening, id: 'u1', kind: 'udp', reply: undefined })).toEqual({ t: T, event: 'listening', id: 'u1', kind: 'udp', address: '127.0.0.1', port: 9000 });
    const bytes = Buffer.from([0x68, 0x00, 0x1b, 0xff]);
    expect(parse({ type: 'datagram', t: T, id: 'u1', from: '[::1]:5353', data: bytes })).toEqual({
      t: T, event: 'datagram', id: 'u1', from: '[::1]:5353', bytes: 4, base64: bytes.toString('base64'), text: 'h\u0000\u001b\ufffd',
    });
    expect(parse({ type: 'send', t: T, id: 'u1', data: Buffer.from('hi'), to: '127.0.0.1:9999' })).toEqual({ t: T, event: 'send', id: 'u1', bytes: 2, base64: 'aGk=', to: '127.0.0.1:9999' });
  });

  it('control bytes never reach the output raw', () => {
    const line = toJsonLine({ type: 'data', t: T, id: 'c1', data: Buffer.from('\x1b[2J\r\x07\u2028') })!;
    expect(line).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(line).toContain('\\u001b[2J\\r\\u0007');
  });

  it('error with and without an endpoint; close hadError; timeout ms', () => {
    expect(parse(SAMPLES.error)).toEqual({ t: T, event: 'error', id: 'c3', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' });
    expect(parse({ type: 'error', t: T, code: 'EMFILE', message: 'accept EMFILE' })).toEqual({ t: T, event: 'error', code: 'EMFILE', message: 'accept EMFILE' });
    expect(parse({ ...SAMPLES.close, hadError: true })).toEqual({ t: T, event: 'close', id: 'c1', hadError: true });
    expect(parse(SAMPLES.timeout)).toEqual({ t: T, event: 'timeout', id: 'c2', ms: 3000 });
  });

  it('command-error names its source when it came from a script; expect received is base64', () => {
    expect(parse({ ...SAMPLES['command-error'], source: 'demo.lab:3' })).toMatchObject({ source: 'demo.lab:3', code: 'E_UNKNOWN_COMMAND' });
    expect(parse(SAMPLES['expect-fail'])).toEqual({ t: T, event: 'expect-fail', id: 'c1', line: '.expect c1 PONG', received: 'UElORwo=' });
  });
});

describe('jsonPrinter', () => {
  it('writes one line per event, each ending in a newline', () => {
    const out: string[] = [];
    const print = jsonPrinter((t) => out.push(t));
    print(SAMPLES.end);
    print(SAMPLES.close);
    expect(out).toEqual([`{"t":${T},"event":"end","id":"c2"}\n`, `{"t":${T},"event":"close","id":"c1","hadError":false}\n`]);
  });
});
