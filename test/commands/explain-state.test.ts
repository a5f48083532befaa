/**
 * Issue 10, item 9: every `.explain` text is true of the state it describes.
 * The events come from real sessions (the situations of docs/workshop.md),
 * so an explanation is checked against what actually happened.
 */
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { explainEvent } from '../../src/render/explain.js';
import { closeAll, is, tempDir } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';

afterEach(closeAll);

describe('.explain says what is true of this event', () => {
  it('lesson 7: s2 closed after an error (its port is taken by s1): nothing about the port being free', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    const port = (rig.ctx.session.getServer('s1').server.address() as net.AddressInfo).port;
    await rig.fail(`.listen ${port}`);
    const text = explainEvent(await rig.log.waitFor(is('close', 's2')))!;
    expect(text).not.toMatch(/free/);
    expect(text).toMatch(/never started listening/);
    // s1 closing for real does give its address up.
    await rig.ok('.close s1');
    expect(explainEvent(await rig.log.waitFor(is('close', 's1')))).toMatch(/no longer holds its address/);
  });

  it('a timeout that destroys nothing does not say socklab destroyed it', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1 --idle 30ms');
    const text = explainEvent(await rig.log.waitFor(is('timeout', 'c1')))!;
    expect(text).not.toMatch(/destroyed it/);
    expect(text).toMatch(/nothing ends it/);
  });

  it('a Unix socket connect and accept: no SYN, no three-way handshake', async () => {
    const rig = commandRig();
    await rig.ok(`.listen ${join(tempDir(), 'e.sock')}`);
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    expect(explainEvent(await rig.log.waitFor(is('connect', 'c1')))).not.toMatch(/SYN/);
    expect(explainEvent(await rig.log.waitFor(is('accept', 'c2')))).not.toMatch(/handshake finished/);
  });

  it('a stale socket file and a --local-port in use: the explanation of that situation', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    const port = (rig.ctx.session.getServer('s1').server.address() as net.AddressInfo).port;
    await rig.fail(`.connect s1 --local-port ${port}`);
    const text = explainEvent(await rig.log.waitFor(is('error', 'c1')))!;
    expect(text).toMatch(/local port/);
    expect(text).not.toMatch(/listening/);
  });
});
