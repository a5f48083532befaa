import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is, peerServer, until } from '../helpers/loopback.js';

afterEach(closeAll);

const payloads = (rig: ReturnType<typeof commandRig>, type: 'send' | 'data', id: string): string[] =>
  rig.log.of(type, id).map((e) => e.data.toString('latin1'));

describe('.listen / .connect', () => {
  it('.listen 0 --reply echo as srv, then .connect srv: completes when connected, echo comes back', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --reply echo as srv');
    const listening = rig.log.of('listening')[0];
    expect(listening).toMatchObject({ id: 's1', alias: 'srv', address: '127.0.0.1', reply: 'echo' });
    await rig.ok('.connect srv as alice');
    const connected = rig.log.of('connect', 'c1')[0];
    expect(connected).toMatchObject({ alias: 'alice', remote: `127.0.0.1:${listening?.port}` });
    await rig.ok('.send alice hi\\n');
    await until(() => payloads(rig, 'data', 'c1').join('') === 'hi\n', 3000, 'the echo');
  });

  it('.connect s1 reaches the port s1 listens on; .connect PORT works too', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok(`.connect ${peer.port}`);
    await rig.ok(`.connect 127.0.0.1:${peer.port} --nodelay --keepalive 1s --timeout 2s`);
    const port = rig.log.of('listening')[0]?.port;
    expect(rig.log.of('connect').map((e) => e.remote)).toEqual([`127.0.0.1:${port}`, `127.0.0.1:${peer.port}`, `127.0.0.1:${peer.port}`]);
    expect(rig.ctx.session.getSocket('c4').options).toMatchObject({ noDelay: true, keepAlive: 1000, timeout: 2000 });
  });

  it('--count 2 as bob opens bob1 and bob2', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1 --count 2 as bob');
    expect(rig.ctx.session.get('bob1').id).toBe('c1');
    expect(rig.ctx.session.get('bob2').id).toBe('c2');
    await until(() => rig.log.of('accept').length === 2);
  });

  it('--greet, --timeout and --max reach the server', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --greet "hello\\r\\n" --timeout 2s --max 3 --backlog 4 --half-open --close-after-reply');
    expect(rig.ctx.session.getServer('s1').options).toMatchObject({
      greet: Buffer.from('hello\r\n'),
      idleTimeout: 2000,
      max: 3,
      backlog: 4,
      halfOpen: true,
      closeAfterReply: true,
    });
    await rig.ok('.connect s1');
    await until(() => payloads(rig, 'data', 'c1').join('') === 'hello\r\n', 3000, 'the greeting');
  });
});

describe('.send / .sendln', () => {
  async function connected() {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.log.waitFor(is('accept', 'c2'));
    return rig;
  }

  it('payload syntax: escapes, quotes keep spaces, hex:', async () => {
    const rig = await connected();
    await rig.ok('.send c1 a\\tb');
    await rig.ok('.send c1 "  spaced  "');
    await rig.ok('.send c1 hex:48 69');
    await until(() => payloads(rig, 'send', 'c1').length === 3);
    expect(payloads(rig, 'send', 'c1')).toEqual(['a\tb', '  spaced  ', 'Hi']);
  });

  it('.sendln appends the end-of-line; .set eol crlf changes it; --eol on .send', async () => {
    const rig = await connected();
    await rig.ok('.sendln c1 one');
    await rig.ok('.set eol crlf');
    await rig.ok('.sendln c1 two');
    await rig.ok('.send --eol c1 three');
    await rig.ok('.set eol none');
    await rig.ok('.sendln c1 four');
    await until(() => payloads(rig, 'send', 'c1').length === 4);
    expect(payloads(rig, 'send', 'c1')).toEqual(['one\n', 'two\r\n', 'three\r\n', 'four']);
  });

  it('--chunk and --delay split one payload into several writes', async () => {
    const rig = await connected();
    await rig.ok('.send --chunk 2 --delay 1ms c1 abcde');
    await until(() => payloads(rig, 'send', 'c1').length === 3);
    expect(payloads(rig, 'send', 'c1')).toEqual(['ab', 'cd', 'e']);
    await until(() => payloads(rig, 'data', 'c2').join('') === 'abcde');
  });

  it('to a server id: every connection; to all: every socket', async () => {
    const rig = await connected();
    await rig.ok('.send s1 to-conns');
    await rig.ok('.send all to-all');
    await until(() => rig.log.of('send').length === 3);
    expect(payloads(rig, 'send', 'c2')).toEqual(['to-conns', 'to-all']);
    expect(payloads(rig, 'send', 'c1')).toEqual(['to-all']);
  });
});

describe('.end / .close / .destroy / .pause / .resume', () => {
  it('.end sends FIN; a second .end is a note (SPEC 3: idempotent)', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --half-open');
    await rig.ok('.connect s1 --half-open');
    await rig.ok('.end c1');
    await rig.log.waitFor(is('end', 'c2'));
    expect(rig.log.of('shutdown', 'c1')).toHaveLength(1);
    await rig.ok('.end c1');
    expect((await rig.log.waitFor(is('note', 'c1'))).message).toMatch(/^already sent FIN/);
  });

  it('.close s1 stops accepting and says how many stay; .close c1 ends gracefully', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.log.waitFor(is('accept', 'c2'));
    await rig.ok('.close s1');
    expect((await rig.log.waitFor(is('stop', 's1'))).open).toBe(1);
    await rig.ok('.close c1');
    await rig.log.waitFor(is('close', 's1'));
    await rig.log.waitFor(is('close', 'c1'));
    expect(rig.log.of('close', 'c1')).toEqual([expect.objectContaining({ hadError: false, aborted: false })]);
    expect(rig.log.of('close').map((e) => e.id).indexOf('s1')).toBeGreaterThan(rig.log.of('close').map((e) => e.id).indexOf('c2'));
  });

  it('.close c1 --force and .destroy abort; .destroy s1 takes its connections along', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.connect ${peer.port} --count 2`);
    await rig.ok('.close c1 --force');
    await rig.ok('.destroy c2');
    await until(() => rig.log.of('close').length === 2);
    expect(rig.log.of('close').map((e) => e.aborted)).toEqual([true, true]);
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.destroy s1');
    await rig.log.waitFor(is('close', 's1'));
    expect(rig.log.of('close', 'c4')).toEqual([expect.objectContaining({ aborted: true })]);
  });

  it('.close all ends every socket and stops every server', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.log.waitFor(is('accept', 'c2'));
    await rig.ok('.close all');
    await until(() => rig.log.of('close').length === 3, 3000, 'three closes');
  });

  it('.pause / .resume on a socket and on every connection of a server', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.connect ${peer.port}`);
    await rig.ok('.pause c1');
    expect(rig.ctx.session.getSocket('c1').userPaused).toBe(true);
    const theirs = await peer.nextSocket();
    theirs.write('held');
    await rig.ok('.resume c1');
    expect((await rig.log.waitFor(is('data', 'c1'))).data.toString()).toBe('held');
    await rig.ok('.listen 0');
    await rig.ok('.connect s1 --count 2');
    await until(() => rig.log.of('accept').length === 2);
    await rig.ok('.pause s1');
    expect([...rig.ctx.session.getServer('s1').connections].map((c) => c.userPaused)).toEqual([true, true]);
  });
});

describe('.wait / .expect / .sleep', () => {
  it('.wait s1 accept as peer, .expect peer PATTERN, .sleep', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept as peer');
    await rig.ok('.send c1 PING\\n');
    await rig.ok('.expect peer "PING"');
    await rig.ok('.sleep 1ms');
    expect(rig.ctx.session.get('peer').id).toBe('c2');
    const peer = await peerServer();
    await rig.ok(`.connect ${peer.port}`);
    (await peer.nextSocket()).write('pong');
    await rig.ok('.expect c3 /po+ng/');
    expect(rig.log.of('expect-ok').map((e) => e.received.toString())).toEqual(['PING', 'pong']);
  });
});
