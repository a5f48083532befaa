import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, closedPort, peerServer, receive, until } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';

afterEach(closeAll);

describe('the REPL, typed as a user would', () => {
  it('listen, connect to s1, send, and the echo comes back', async () => {
    const h = startHarness();
    h.type('.listen 0 --reply echo');
    const port = Number((await h.waitFor(/s1 {3}listening on 127\.0\.0\.1:\d+/)).split(':').at(-1));
    expect(port).toBeGreaterThan(0);
    h.type('.connect s1');
    await h.waitFor(/c1 {3}connected 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+/);
    await h.waitFor(/c2 {3}accepted by s1 from 127\.0\.0\.1:\d+/);
    h.type('.send c1 hi\\n');
    await h.waitFor('c1   → 3 B  "hi\\n"');
    await h.waitFor('c2   ← 3 B  "hi\\n"');
    await h.waitFor('c1   ← 3 B  "hi\\n"');
    expect(h.output()).toContain('socklab> ');
  });

  it('JavaScript sees the live sockets and the session', async () => {
    const h = startHarness();
    h.type('.listen 0 as srv');
    await h.waitFor('listening on');
    h.type('.connect srv');
    await h.waitFor('connected');
    const port = h.session.getServer('s1').address.split(':')[1];
    h.mark();
    h.type('c1.remotePort');
    await h.waitFor(new RegExp(`^${port}$`, 'm'));
    h.mark();
    h.type('session.list().map((ep) => ep.id).join(",")');
    await h.waitFor("'s1,c1,c2'");
    h.mark();
    h.type('srv.listening');
    await h.waitFor(/^true$/m);
  });

  it('bytes written from JavaScript are shown as events', async () => {
    const peer = await peerServer();
    const h = startHarness();
    h.type(`.connect ${peer.port}`);
    await h.waitFor('connected');
    h.type('c1.write(Buffer.from([0x01, 0x02]))');
    await h.waitFor('c1   → 2 B  "\\x01\\x02"');
    expect(await receive(await peer.nextSocket(), '\x01\x02')).toBe('\x01\x02');
  });

  it('an unknown command suggests the nearest and the REPL lives on', async () => {
    const h = startHarness();
    h.type('.lisen 0');
    await h.waitFor('!    unknown command .lisen: did you mean .listen? .help lists the commands');
    h.type('.listen 0');
    await h.waitFor('s1   listening on');
  });

  it('usage errors, bad ids, refused connections and JS exceptions do not end it', async () => {
    const h = startHarness();
    h.type('.listen 70000');
    await h.waitFor('port 70000 is out of range');
    h.type('.end c9');
    await h.waitFor('no endpoint "c9"');
    h.type('throw new Error("boom")');
    await h.waitFor('boom');
    h.type(`.connect ${await closedPort()}`);
    await h.waitFor(/c1 {3}error ECONNREFUSED/);
    await h.waitFor('c1   closed after an error');
    h.type('1 + 1');
    await h.waitFor(/^2$/m);
  });

  it('.help lists the commands; Node\'s own .load/.save/.editor are gone', async () => {
    const h = startHarness();
    h.type('.help');
    await h.waitFor('.help NAME shows usage, options and examples.');
    expect(h.output()).toMatch(/^ {2}\.listen /m);
    h.mark();
    h.type('.load x.js');
    await h.waitFor('unknown command .load');
  });

  it('.exit closes every endpoint and ends the REPL', async () => {
    const peer = await peerServer();
    const h = startHarness();
    h.type('.listen 0 --reply echo');
    await h.waitFor('listening on');
    h.type('.connect s1');
    h.type(`.connect ${peer.port}`);
    await until(() => h.session.list().length === 4, 3000, 'four endpoints');
    h.type('.exit');
    await h.repl.closed;
    expect(h.session.list().map((ep) => `${ep.id} ${ep.state}`)).toEqual(['s1 closed', 'c1 closed', 'c2 closed', 'c3 closed']);
    expect(h.output()).toContain('s1   closed');
    await until(() => peer.sockets.every((s) => s.readableEnded || s.destroyed), 3000, 'the peer saw the end');
  });

  it('end of input (Ctrl+D) closes everything too', async () => {
    const h = startHarness();
    h.type('.listen 0');
    await h.waitFor('listening on');
    await h.close();
    expect(h.session.getServer('s1').state).toBe('closed');
  });
});
