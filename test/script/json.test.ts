import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

type Json = Record<string, unknown> & { t: number; event: string };

/** SPEC section 5: the keys of each event (beyond t and event); `?` marks optional ones. */
const KEYS: Record<string, string[]> = {
  listening: ['id', 'address', 'port', 'alias?'],
  connect: ['id', 'local', 'remote', 'alias?'],
  accept: ['id', 'server', 'local', 'remote'],
  send: ['id', 'bytes', 'base64'],
  data: ['id', 'bytes', 'base64', 'text'],
  end: ['id'],
  close: ['id', 'hadError'],
  error: ['id', 'code', 'message'],
  timeout: ['id', 'ms'],
  command: ['line'],
  // Beyond SPEC's line and message: the error code, and where a script line came from.
  'command-error': ['line', 'code', 'message', 'source?'],
  'expect-ok': ['id', 'line', 'received'],
  'expect-fail': ['id', 'line', 'received'],
  // Not in SPEC section 5: we sent FIN (the peer's FIN is `end`).
  shutdown: ['id'],
  // Not in SPEC section 5: a note for the person watching (here the --keep-going count).
  note: ['id?', 'message'],
};

const HOST_PORT = /^127\.0\.0\.1:\d{1,5}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The type each field must have. */
const TYPES: Record<string, (v: unknown) => boolean> = {
  id: (v) => typeof v === 'string' && /^(s|c)\d+$/.test(v),
  alias: (v) => typeof v === 'string' && v.length > 0,
  address: (v) => v === '127.0.0.1',
  port: (v) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536,
  local: (v) => typeof v === 'string' && HOST_PORT.test(v),
  remote: (v) => typeof v === 'string' && HOST_PORT.test(v),
  server: (v) => typeof v === 'string' && /^s\d+$/.test(v),
  bytes: (v) => typeof v === 'number' && Number.isInteger(v) && v > 0,
  base64: (v) => typeof v === 'string' && BASE64.test(v),
  text: (v) => typeof v === 'string',
  hadError: (v) => typeof v === 'boolean',
  code: (v) => typeof v === 'string' && /^E[A-Z_]+$/.test(v),
  message: (v) => typeof v === 'string' && v.length > 0,
  ms: (v) => typeof v === 'number' && v > 0,
  line: (v) => typeof v === 'string',
  source: (v) => typeof v === 'string' && /:\d+$/.test(v),
  received: (v) => typeof v === 'string' && BASE64.test(v),
};

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

describe('socklab --json over a script with every event kind', () => {
  let busy: net.Server;
  let stdout = '';
  let stdoutBytes: Buffer;
  let events: Json[] = [];
  let exitCode: number | null = null;
  let file = '';

  beforeAll(async () => {
    // A port held by this test, so `.listen` on it fails with an error event.
    busy = net.createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const busyPort = (busy.address() as net.AddressInfo).port;
    file = join(tempDir(), 'every-event.lab');
    writeFileSync(
      file,
      [
        '.listen 0 --reply echo as srv',
        '.connect srv as alice',
        '.wait srv accept as bob',
        '.send alice hi\\n',
        '.expect alice hi',
        '.send alice hex:ff 00 41',
        '.expect alice hex:41',
        '.expect alice nope --timeout 50ms',
        '.end alice',
        '.wait bob end',
        '.wait alice close',
        '.listen 0 --timeout 100ms',
        '.connect s2',
        '.wait s2 accept as idle',
        '.wait idle timeout',
        `.listen 127.0.0.1:${busyPort}`,
        '.close c99',
        '',
      ].join('\n'),
    );
    const p = runCli(['--json', '--keep-going', file]);
    const exit = await p.waitForExit(10_000);
    exitCode = exit.code;
    stdout = p.stdout();
    stdoutBytes = p.stdoutBytes();
    events = stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Json);
  });

  afterAll(async () => {
    await cleanupProcesses();
    busy.close();
    await closeAll();
  });

  it('exits 1 (some lines failed on purpose) after running every line', () => {
    expect(exitCode, stdout).toBe(1);
    expect(events.filter((ev) => ev.event === 'command')).toHaveLength(17);
  });

  it('writes one JSON object per line, and nothing else', () => {
    expect(stdout.endsWith('\n')).toBe(true);
    for (const line of stdout.slice(0, -1).split('\n')) {
      const value: unknown = JSON.parse(line);
      expect(typeof value === 'object' && value !== null && !Array.isArray(value), line).toBe(true);
    }
    // No raw control bytes from the peer reach the stream: JSON escapes them.
    expect([...stdoutBytes].filter((b) => b < 0x20 && b !== 0x0a)).toEqual([]);
  });

  it('produces every event kind of SPEC section 5', () => {
    const kinds = new Set(events.map((ev) => ev.event));
    for (const kind of ['listening', 'connect', 'accept', 'send', 'data', 'end', 'close', 'error', 'timeout', 'command', 'command-error', 'expect-ok', 'expect-fail']) {
      expect(kinds.has(kind), `${kind} missing from:\n${stdout}`).toBe(true);
    }
  });

  it('gives every object exactly the keys of its kind, with the right types', () => {
    const start = Date.now() - 60_000;
    let last = 0;
    for (const ev of events) {
      const spec = KEYS[ev.event];
      expect(spec, `unexpected event kind ${ev.event}`).toBeDefined();
      const required = (spec ?? []).filter((k) => !k.endsWith('?'));
      const optional = (spec ?? []).filter((k) => k.endsWith('?')).map((k) => k.slice(0, -1));
      const keys = Object.keys(ev);
      expect(keys.slice(0, 2), JSON.stringify(ev)).toEqual(['t', 'event']);
      for (const k of required) expect(keys, `${k} missing in ${JSON.stringify(ev)}`).toContain(k);
      for (const k of keys.slice(2)) {
        expect([...required, ...optional], `extra key ${k} in ${JSON.stringify(ev)}`).toContain(k);
        expect(TYPES[k]?.(ev[k]), `${k} of ${JSON.stringify(ev)}`).toBe(true);
      }
      expect(Number.isInteger(ev.t) && ev.t >= start && ev.t <= Date.now()).toBe(true);
      expect(ev.t).toBeGreaterThanOrEqual(last);
      last = ev.t;
    }
  });

  it('listening and connect carry the alias they were given', () => {
    const listening = events.filter((ev) => ev.event === 'listening');
    expect(listening.map((ev) => [ev.id, ev.alias])).toEqual([
      ['s1', 'srv'],
      ['s2', undefined],
    ]);
    expect(events.find((ev) => ev.event === 'connect' && ev.id === 'c1')).toMatchObject({ alias: 'alice' });
  });

  it('accept and connect describe the same connection from both ends', () => {
    const s1 = events.find((ev) => ev.event === 'listening' && ev.id === 's1');
    const accept = events.find((ev) => ev.event === 'accept' && ev.server === 's1');
    const connect = events.find((ev) => ev.event === 'connect' && ev.id === 'c1');
    expect(accept).toMatchObject({ id: 'c2', local: `127.0.0.1:${String(s1?.port)}` });
    expect(connect).toMatchObject({ remote: accept?.local, local: accept?.remote });
  });

  it('send and data carry byte counts that match their base64, and data the lossy UTF-8 text', () => {
    for (const ev of events.filter((e) => e.event === 'send' || e.event === 'data')) {
      const bytes = Buffer.from(ev.base64 as string, 'base64');
      expect(bytes.length).toBe(ev.bytes);
      if (ev.event === 'data') expect(ev.text).toBe(bytes.toString('utf8'));
    }
    const sends = events.filter((ev) => ev.event === 'send' && ev.id === 'c1').map((ev) => ev.base64);
    expect(sends).toEqual([b64('hi\n'), b64(Buffer.from([0xff, 0x00, 0x41]))]);
    const binary = events.find((ev) => ev.event === 'data' && ev.id === 'c2' && ev.base64 === b64(Buffer.from([0xff, 0x00, 0x41])));
    expect(binary?.text).toBe('\ufffd\u0000A');
  });

  it('expect-ok and expect-fail carry the line and what arrived, in base64', () => {
    expect(events.filter((ev) => ev.event === 'expect-ok').map((ev) => [ev.id, ev.line, ev.received])).toEqual([
      ['c1', '.expect alice hi', b64('hi')],
      ['c1', '.expect alice hex:41', b64(Buffer.from([0x0a, 0xff, 0x00, 0x41]))],
    ]);
    expect(events.filter((ev) => ev.event === 'expect-fail').map((ev) => [ev.id, ev.line, ev.received])).toEqual([
      ['c1', '.expect alice nope --timeout 50ms', ''],
    ]);
  });

  it('command-error carries the line, code, message and file:line', () => {
    const errs = events.filter((ev) => ev.event === 'command-error');
    expect(errs.map((ev) => [ev.source, ev.code])).toEqual([
      [`${file}:8`, 'E_EXPECT'],
      [`${file}:16`, 'E_NET'],
      [`${file}:17`, 'E_UNKNOWN_ID'],
    ]);
    expect(errs[0]?.line).toBe('.expect alice nope --timeout 50ms');
  });

  it('error carries the OS code, timeout the idle time; close says whether it had an error', () => {
    const error = events.find((ev) => ev.event === 'error');
    expect(error).toMatchObject({ id: 's3', code: 'EADDRINUSE' });
    expect(events.find((ev) => ev.event === 'close' && ev.id === 's3')).toMatchObject({ hadError: true });
    expect(events.find((ev) => ev.event === 'timeout')).toMatchObject({ id: 'c4', ms: 100 });
    expect(events.find((ev) => ev.event === 'end' && ev.id === 'c2')).toBeDefined();
  });

  it('ends every endpoint with exactly one close, its last event', () => {
    const ids = [...new Set(events.filter((ev) => typeof ev.id === 'string').map((ev) => ev.id as string))];
    expect(ids.sort()).toEqual(['c1', 'c2', 'c3', 'c4', 's1', 's2', 's3']);
    for (const id of ids) {
      const mine = events.filter((ev) => ev.id === id && !['expect-ok', 'expect-fail'].includes(ev.event));
      expect(mine.filter((ev) => ev.event === 'close'), id).toHaveLength(1);
      expect(mine.at(-1)?.event, id).toBe('close');
    }
  });
});
