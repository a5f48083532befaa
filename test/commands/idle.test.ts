/**
 * Issue 10, item 5: a client idle timeout (`.connect --idle MS`, with
 * `--idle-destroy` it also destroys), and a timeout set from JavaScript shows
 * as a `timeout` event that `.wait c1 timeout` sees. One event per timeout:
 * socklab's own timers are not reported twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, is } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';
import { pythonPeer } from '../helpers/python-peer.js';

afterEach(closeAll);

describe('.connect --idle', () => {
  it('--idle 50ms: a timeout event, the socket stays open and still works', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --reply echo');
    await rig.ok('.connect s1 --idle 50ms');
    await rig.ok('.wait c1 timeout');
    expect(rig.log.of('timeout', 'c1')).toEqual([expect.objectContaining({ ms: 50, destroyed: false })]);
    expect(rig.ctx.session.getSocket('c1').state).toBe('open');
    await rig.ok('.send c1 still-here');
    await rig.ok('.expect c1 still-here');
  });

  it('--idle 50ms --idle-destroy: the timeout destroys it, and the peer (Python) sees the FIN of a plain destroy', async () => {
    const py = await pythonPeer();
    const rig = commandRig();
    await rig.ok(`.connect ${py.port} --idle 50ms --idle-destroy`);
    await rig.ok('.wait c1 timeout');
    await rig.ok('.wait c1 close');
    expect(rig.log.of('timeout', 'c1')).toEqual([expect.objectContaining({ ms: 50, destroyed: true })]);
    expect(rig.log.of('close', 'c1')).toEqual([expect.objectContaining({ aborted: true })]);
    expect(await py.ask('read', ['EOF', 'RESET'])).toBe('EOF 0');
  });

  it('--idle-destroy without --idle, and --idle 0, are refused with what to type', async () => {
    const rig = commandRig();
    expect((await rig.fail('.connect 9 --idle-destroy')).message).toMatch(/--idle-destroy needs --idle MS/);
    expect((await rig.fail('.connect 9 --idle 0')).message).toMatch(/--idle 0 turns the idle timeout off/);
  });
});

describe('a timeout set from JavaScript', () => {
  it('c1.setTimeout(40) shows as a timeout event and satisfies .wait c1 timeout', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    rig.ctx.session.getSocket('c1').socket.setTimeout(40);
    await rig.ok('.wait c1 timeout');
    expect(rig.log.of('timeout', 'c1')).toEqual([expect.objectContaining({ ms: 40, destroyed: false })]);
  });

  it('on a socket with --timeout of its server: one event per timeout, not two', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --timeout 40ms');
    await rig.ok('.connect s1');
    await rig.ok('.wait c2 close');
    await rig.log.waitFor(is('close', 'c1'));
    expect(rig.log.of('timeout', 'c2')).toEqual([expect.objectContaining({ ms: 40, destroyed: true })]);
    expect(rig.log.of('timeout', 'c1')).toEqual([]);
  });
});
