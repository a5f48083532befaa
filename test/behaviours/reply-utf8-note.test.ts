/**
 * Issue 10, item 18: a template reply with {upper}/{lower} runs per chunk, so
 * a character split across two chunks becomes two U+FFFD; the rule stays, and
 * a note says so the first time it happens on a socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { splitsCharacter } from '../../src/behaviours/reply.js';
import { closeAll } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';

afterEach(closeAll);

describe('a template reply on a chunk that splits a UTF-8 character', () => {
  it('one note per socket, the first time; the reply keeps the per-chunk rule', async () => {
    const rig = commandRig();
    await rig.ok(".listen 0 --reply '{upper}'");
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    // "hé" whose é (c3 a9) is cut in two: each send is read as its own chunk before the next.
    await rig.ok('.send c1 hex:68 c3');
    await rig.ok('.expect c2 hex:68 c3');
    await rig.ok('.send c1 hex:a9');
    await rig.ok('.expect c2 hex:a9');
    await rig.ok('.expect c1 "H\\u{fffd}\\u{fffd}"');
    await rig.ok('.send c1 hex:c3');
    await rig.ok('.expect c2 hex:c3');
    await rig.ok('.send c1 hex:a9');
    await rig.ok('.expect c1 "\\u{fffd}\\u{fffd}"');
    const notes = rig.log.of('note', 'c2').map((n) => n.message);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/inside a UTF-8 character: \{upper\}\/\{lower\} read each chunk on its own/);
  });

  it('{data} is binary-safe: no note', async () => {
    const rig = commandRig();
    await rig.ok(".listen 0 --reply '<{data}>'");
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    await rig.ok('.send c1 hex:c3');
    await rig.ok('.expect c1 hex:3c c3 3e');
    expect(rig.log.of('note', 'c2')).toEqual([]);
  });

  it('splitsCharacter', () => {
    expect(splitsCharacter(Buffer.from('hé'))).toBe(false);
    expect(splitsCharacter(Buffer.from([0x68, 0xc3]))).toBe(true);
    expect(splitsCharacter(Buffer.from([0xa9, 0x68]))).toBe(true);
    expect(splitsCharacter(Buffer.from([0xf0, 0x9f, 0x98]))).toBe(true);
    expect(splitsCharacter(Buffer.from('😀'))).toBe(false);
    expect(splitsCharacter(Buffer.from('abc'))).toBe(false);
  });
});
