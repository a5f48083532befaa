/**
 * The classroom page over plain HTTP: curl for headers, methods and tokens;
 * a small EventSource-like reader for the stream (late joiners, resuming
 * with Last-Event-ID, resyncs). In-process sessions on loopback, port 0.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, track } from '../helpers/loopback.js';
import { closeStreams, openSse } from '../helpers/sse.js';
import { scriptPermissions } from '../../src/script/permissions.js';
import { servingOf, type Serving } from '../../src/serve/serve.js';
import { RING_ENTRIES } from '../../src/serve/ring.js';
import type { SessionEvent } from '../../src/session/events.js';

const run = promisify(execFile);

afterEach(async () => {
  closeStreams();
  await closeAll();
});

/** A session serving its page on `address`, stopped after the test. */
async function served(address = '0') {
  const rig = commandRig();
  await rig.ok(`.serve ${address}`);
  const serving = servingOf(rig.ctx.session) as Serving;
  track(() => serving.stop());
  const base = `http://127.0.0.1:${serving.port}/`;
  return { rig, serving, base };
}

/** `curl -s -i` (status line and headers, then the body). */
async function curl(...args: string[]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { stdout } = await run('curl', ['-s', '-i', '--max-time', '20', ...args]);
  const [head = '', ...rest] = stdout.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

const note = (ev: SessionEvent) => ev.type === 'note' && ev.message.startsWith('classroom page: refused');

describe('.serve over HTTP', () => {
  it('serves the page, its script and its style with their types, a CSP without inline script, and nosniff', async () => {
    const { base } = await served();
    for (const [path, type] of [['', 'text/html'], ['app.js', 'text/javascript'], ['style.css', 'text/css']] as const) {
      const r = await curl(base + path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type']).toContain(type);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      const csp = r.headers['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
    const page = await curl(base);
    // Every asset is the package's: nothing from another host.
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(page.body).not.toMatch(/<script>|<style>|\sstyle=|\son\w+=/);
  });

  it('is read-only: any method but GET and HEAD gets 405 with Allow, and the session does not change', async () => {
    const { base, rig } = await served();
    const before = rig.log.events.length;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await curl('-X', method, '--data', '.listen 0', `${base}events`);
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    expect((await curl('-I', base)).status).toBe(200);
    expect((await curl(`${base}nothing-here`)).status).toBe(404);
    expect(rig.log.events.slice(before).filter((e) => e.type !== 'note')).toEqual([]);
    expect(rig.ctx.session.list()).toEqual([]);
  });

  it('on loopback answers only to a loopback Host (a DNS-rebinding page gets 403 and a note)', async () => {
    const { base, rig } = await served();
    const r = await curl('-H', 'Host: attacker.example', base);
    expect(r.status).toBe(403);
    const ev = await rig.log.waitFor(note);
    expect(ev.type === 'note' && ev.message).toContain('attacker.example');
    expect((await curl('-H', `Host: localhost:${new URL(base).port}`, base)).status).toBe(200);
  });

  it('on another address needs the token it printed: none or a wrong one gets 403 and a note in the terminal', async () => {
    const { base, rig, serving } = await served('0.0.0.0:0');
    expect(serving.token).toMatch(/^[\w-]{20,}$/);
    expect(rig.printed.join('\n')).toContain(`?token=${serving.token}`);
    const missing = await curl(base);
    expect(missing.status).toBe(403);
    expect(missing.body).toContain('token');
    await rig.log.waitFor((ev) => note(ev) && ev.type === 'note' && ev.message.endsWith('no token'));
    expect((await curl(`${base}events?token=${serving.token}x`)).status).toBe(403);
    expect((await curl(`${base}?token=${serving.token}`)).status).toBe(200);
    // The page's script and style carry no session data: a browser fetches them without the token.
    expect((await curl(`${base}app.js`)).status).toBe(200);
    const stream = await openSse(`${base}events?token=${serving.token}`);
    expect(stream.status).toBe(200);
  });

  it('a script may serve on 127.0.0.1 only: exposing the session needs the person (E_PERMISSION)', async () => {
    const rig = commandRig();
    rig.ctx.permissions = scriptPermissions(undefined, { js: false, read: false, write: false });
    const error = await rig.fail('.serve 0.0.0.0:0');
    expect(error.code).toBe('E_PERMISSION');
    expect(error.message).toContain('--serve');
    await rig.ok('.serve 127.0.0.1:0');
    track(() => servingOf(rig.ctx.session)?.stop());
  });

  it('bad addresses and a second .serve get one clear line each', async () => {
    const { rig } = await served();
    expect((await rig.fail('.serve 0')).message).toContain('.serve stop first');
    expect((await rig.fail('.serve ./page.sock')).message).toContain('HOST:PORT');
    expect((await rig.fail('.serve 70000')).message).toContain('out of range');
    await rig.ok('.serve stop');
    expect((await rig.fail('.serve stop')).message).toContain('not being served');
    const taken = net.createServer().listen(0, '127.0.0.1');
    track(() => void taken.close());
    await once(taken, 'listening');
    const { port } = taken.address() as net.AddressInfo;
    const busy = await rig.fail(`.serve ${port}`);
    expect(busy.message).toContain('EADDRINUSE');
    expect(busy.message).toContain('choose another port');
    // Nothing was left half-started: the next .serve works.
    await rig.ok('.serve 0');
    track(() => servingOf(rig.ctx.session)?.stop());
  });
});

describe('the event stream', () => {
  it('gives a late joiner the session so far, numbered from 1, with the table and the diagram', async () => {
    const { rig, base } = await served();
    await rig.ok('.listen 0 --reply echo as srv');
    await rig.ok('.connect srv');
    await rig.ok('.send c1 hello');
    await rig.log.waitFor((ev) => ev.type === 'data' && ev.id === 'c1');
    const stream = await openSse(`${base}events`);
    expect(stream.status).toBe(200);
    await stream.waitFor((f) => f.event === 'log' && f.data.includes('"type":"data"') && f.data.includes('"id":"c1"'));
    const logs = stream.logs();
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1));
    expect(logs[0]?.type).toBe('command');
    expect(JSON.parse(stream.frames[0]?.data ?? '{}')).toEqual({ mode: 'fresh', earlier: 0 });
    const table = JSON.parse((await stream.waitFor((f) => f.event === 'table')).data);
    expect(table.rows.map((r: string[]) => r[0])).toEqual(['s1', 'c1', 'c2']);
    expect(table.rows[0][1]).toBe('srv');
    const diagram = JSON.parse((await stream.waitFor((f) => f.event === 'diagram')).data);
    expect(diagram.rows.some((r: { label: string }) => r.label.startsWith('5 B "hello'))).toBe(true);
  });

  it('gives each new viewer the table as it is now, and live viewers a refreshed one, though nothing happened (ages move)', async () => {
    let clock = Date.now();
    const rig = commandRig({ session: { now: () => clock } });
    await rig.ok('.serve 0');
    const serving = servingOf(rig.ctx.session) as Serving;
    track(() => serving.stop());
    const base = `http://127.0.0.1:${serving.port}/`;
    await rig.ok('.listen 0 as srv');
    const ageOf = (f: { data: string }) => (JSON.parse(f.data) as { rows: string[][] }).rows[0]?.at(-1);
    const first = await openSse(`${base}events`);
    expect(ageOf(await first.waitFor((f) => f.event === 'table'))).toBe('0ms');
    clock += 3 * 60_000;
    const late = await openSse(`${base}events`);
    expect(ageOf(await late.waitFor((f) => f.event === 'table'))).toBe('3m00s');
    expect(ageOf(await first.waitFor((f) => f.event === 'table' && ageOf(f) !== '0ms'))).toBe('3m00s');
    // With no event and no new viewer, the live ones get the current ages at the next refresh (TABLE_REFRESH_MS).
    clock += 60_000;
    expect(ageOf(await first.waitFor((f) => f.event === 'table' && ageOf(f) === '4m00s'))).toBe('4m00s');
    expect(ageOf(await late.waitFor((f) => f.event === 'table' && ageOf(f) === '4m00s'))).toBe('4m00s');
    // Only the table moved: the diagram (tens of KB in a busy session) was sent to each viewer once, not with every table.
    expect(first.frames.filter((f) => f.event === 'diagram')).toHaveLength(1);
    expect(late.frames.filter((f) => f.event === 'diagram')).toHaveLength(1);
  });

  it('resumes after Last-Event-ID with no gap and no duplicate', async () => {
    const { rig, base } = await served();
    const first = await openSse(`${base}events`);
    await rig.ok('.listen 0 --reply echo');
    await rig.ok('.connect s1');
    await first.waitFor((f) => f.data.includes('"type":"connect"'));
    const last = first.lastId() as string;
    first.close();
    await rig.ok('.send c1 after-the-drop');
    await rig.log.waitFor((ev) => ev.type === 'data' && ev.id === 'c1');
    const again = await openSse(`${base}events`, { 'Last-Event-ID': last });
    await again.waitFor((f) => f.data.includes('"type":"data"') && f.data.includes('"id":"c1"'));
    expect(JSON.parse(again.frames[0]?.data ?? '{}').mode).toBe('resume');
    const seen = [...first.logs(), ...again.logs()].map((l) => l.seq);
    expect(seen).toEqual(seen.map((_, i) => i + 1));
  });

  it('a resume from further back than it keeps is told how much it missed and resynced', async () => {
    const { rig, base, serving } = await served();
    const first = await openSse(`${base}events`);
    rig.ctx.session.emit({ type: 'note', t: Date.now(), message: 'the first' });
    await first.waitFor((f) => f.event === 'log');
    const last = first.lastId() as string;
    first.close();
    for (let i = 0; i < RING_ENTRIES + 100; i++) rig.ctx.session.emit({ type: 'note', t: Date.now(), message: `n${i}` });
    const again = await openSse(`${base}events`, { 'Last-Event-ID': last });
    const resync = await again.waitFor((f) => f.event === 'resync');
    expect(JSON.parse(resync.data).missed).toBeGreaterThan(100);
    await again.waitFor((f) => f.data.includes(`"n${RING_ENTRIES + 99}"`));
    const seqs = again.logs().map((l) => l.seq);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    // Resuming from the resync's id goes on from there.
    expect(again.frames.find((f) => f.event === 'resync')?.id).toBe(`${last.split('.')[0]}.${(seqs[0] as number) - 1}`);
    expect(serving.viewers.size).toBe(1);
  });

  it('an id from another session (a restarted socklab) starts afresh', async () => {
    const { rig, base } = await served();
    rig.ctx.session.emit({ type: 'note', t: Date.now(), message: 'only' });
    const stream = await openSse(`${base}events`, { 'Last-Event-ID': 'deadbeef.99' });
    await stream.waitFor((f) => f.event === 'log');
    expect(JSON.parse(stream.frames[0]?.data ?? '{}').mode).toBe('fresh');
    expect(stream.logs()[0]?.seq).toBe(1);
  });

  it('shows an event kind no renderer knows yet, generically and escaped', async () => {
    const { rig, base } = await served();
    const stream = await openSse(`${base}events`);
    const strange = { type: 'frobnicate', t: Date.now(), id: 'x1', detail: '<b>\x1b[31m', data: Buffer.from('abc') };
    rig.ctx.session.emit(strange as unknown as SessionEvent);
    await stream.waitFor((f) => f.data.includes('"type":"frobnicate"'));
    const entry = stream.logs().find((l) => l.type === 'frobnicate');
    const text = entry?.lines.flat().map(([, t]) => t).join('') ?? '';
    expect(text).toContain('frobnicate');
    expect(text).toContain('<b>\\u001b[31m');
    expect(text).toContain('"bytes":3');
    expect(text).not.toContain('\x1b');
  });
});
