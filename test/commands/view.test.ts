import { afterEach, describe, expect, it } from 'vitest';
import { HumanPrinter } from '../../src/render/printer.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is, until } from '../helpers/loopback.js';

afterEach(closeAll);

/** A rig with s1 (echo), client c1 and its accepted socket c2, and 'hi' echoed once. */
async function echoPair() {
  const rig = commandRig();
  await rig.ok('.listen 0 --reply echo as srv');
  await rig.ok('.connect s1 as alice');
  await rig.log.waitFor(is('accept', 'c2'));
  await rig.ok('.send c1 hi');
  await until(() => rig.log.of('data', 'c1').length === 1, 3000, 'the echo');
  return rig;
}

describe('.ls', () => {
  it('says how to start when nothing is open', async () => {
    const rig = commandRig();
    await rig.ok('.ls');
    expect(rig.printed).toEqual(['nothing yet: .listen 0 starts a server, .connect PORT opens a socket']);
  });

  it('a table with a header and one row per endpoint', async () => {
    const rig = await echoPair();
    const port = rig.log.of('listening')[0]?.port;
    const c1 = rig.ctx.session.getSocket('c1');
    await rig.ok('.ls');
    const lines = rig.printed[0]!.split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['id', 'name', 'kind', 'local', 'remote', 'state', 'in', 'out', 'queued', 'age']);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^s1\\s+srv\\s+server\\s+127\\.0\\.0\\.1:${port}\\s+1 open / 1 accepted\\s+listening\\s+\\d+ms$`));
    expect(lines[2]).toMatch(
      new RegExp(`^c1\\s+alice\\s+client\\s+127\\.0\\.0\\.1:${c1.socket.localPort}\\s+127\\.0\\.0\\.1:${port}\\s+open\\s+2 B\\s+2 B\\s+0 B\\s+\\d+ms$`),
    );
    expect(lines[3]).toMatch(/^c2\s+conn of s1\s+127\.0\.0\.1:\d+\s+127\.0\.0\.1:\d+\s+open\s+2 B\s+2 B\s+0 B/);
  });

  it('.ls s1 lists the server and its connections; --open drops closed ones; paused shows', async () => {
    const rig = await echoPair();
    await rig.ok('.listen 0');
    await rig.ok('.pause c2');
    await rig.ok('.ls s1');
    expect(rig.printed.at(-1)!.split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['s1', 'c2']);
    expect(rig.printed.at(-1)).toMatch(/open, paused/);
    await rig.ok('.close s2');
    await rig.log.waitFor(is('close', 's2'));
    await rig.ok('.ls --open');
    expect(rig.printed.at(-1)!.split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['s1', 'c1', 'c2']);
  });
});

describe('.show', () => {
  it('everything about a socket: kind, addresses, counters, options', async () => {
    const rig = await echoPair();
    await rig.ok('.show alice');
    const text = rig.printed[0]!;
    const fields = Object.fromEntries(text.split('\n').map((l) => [l.slice(0, 17).trim(), l.slice(17)]));
    expect(fields).toMatchObject({
      id: 'c1',
      name: 'alice',
      state: 'open',
      kind: 'client',
      received: '2 B in 1 chunks',
      sent: '2 B in 1 writes',
      queued: '0 B',
      reading: 'yes',
    });
    expect(fields.remote).toBe(`127.0.0.1:${rig.log.of('listening')[0]?.port}`);
    expect(fields['connect time']).toMatch(/^\d+ms$/);
    expect(fields.options).toMatch(/alias=alice/);
  });

  it('a server: address, open connections, accepted, options', async () => {
    const rig = await echoPair();
    await rig.ok('.show s1');
    const text = rig.printed[0]!;
    expect(text).toMatch(/^id {15}s1$/m);
    expect(text).toMatch(/^open connections c2$/m);
    expect(text).toMatch(/^accepted {9}1$/m);
    expect(text).toMatch(/^options {10}.*reply=echo/m);
  });

  it('a closed socket still shows how it ended', async () => {
    const rig = await echoPair();
    await rig.ok('.destroy c1');
    await rig.log.waitFor(is('close', 'c1'));
    await rig.ok('.show c1');
    expect(rig.printed[0]).toMatch(/^state {12}destroyed$/m);
  });
});

describe('.view', () => {
  it('.view hex switches the rendering of data events to hexdump lines', async () => {
    const rig = commandRig();
    const out: string[] = [];
    const printer = new HumanPrinter(rig.settings, (t) => out.push(t));
    rig.ctx.session.subscribe(printer.handle);
    await rig.ok('.listen 0 --reply echo');
    await rig.ok('.connect s1');
    await rig.ok('.send c1 hi');
    await until(() => rig.log.of('data', 'c1').length === 1);
    await rig.ok('.view hex');
    expect(rig.settings.view).toBe('hex');
    await rig.ok('.send c1 hi');
    await until(() => rig.log.of('data', 'c1').length === 2);
    printer.close();
    const text = out.join('');
    expect(text).toMatch(/^c1 {3}← 2 B {2}"hi"$/m);
    expect(text).toMatch(/^c1 {3}← 2 B\n {5}00000002 {2}68 69 {45}\|hi\|$/m);
  });

  it('.view MODE ID sets one socket only; .view off', async () => {
    const rig = await echoPair();
    await rig.ok('.view both alice');
    expect(rig.settings.views.get('c1')).toBe('both');
    expect(rig.settings.view).toBe('text');
    await rig.ok('.view off');
    expect(rig.settings.view).toBe('off');
  });
});

describe('.set', () => {
  it('without arguments prints every setting', async () => {
    const rig = commandRig();
    await rig.ok('.set');
    expect(rig.printed[0]).toMatch(/^eol lf\ntime off\nmaxbytes 256\ncolor off\nview text/);
  });

  it.each([
    ['eol crlf', { eol: 'crlf' }],
    ['eol none', { eol: 'none' }],
    ['time on', { time: true }],
    ['color on', { color: true }],
    ['maxbytes 1024', { maxbytes: 1024 }],
  ])('.set %s', async (words, expected) => {
    const rig = commandRig();
    await rig.ok(`.set ${words}`);
    expect(rig.settings).toMatchObject(expected);
  });

  it('a key without a value is a usage error', async () => {
    const rig = commandRig();
    expect(await rig.fail('.set time')).toMatchObject({ code: 'E_USAGE', message: '.set time takes on | off' });
    expect(rig.settings.time).toBe(false);
  });
});
