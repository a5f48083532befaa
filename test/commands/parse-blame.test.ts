/**
 * Issue 10, item 8: a bad line names the token that is wrong, not `as`, and a
 * trailing `# note` (not a comment: SPEC 6 comments are whole lines) says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';

afterEach(closeAll);

describe('words after as NAME', () => {
  it.each([
    ['.listen 0 as s extra', 'unexpected "extra" after "as s": the name comes last (… as s)'],
    ['.connect 9 as c extra words', 'unexpected "extra" after "as c": the name comes last (… as c)'],
    ['.listen 0 --reply echo as s  # note', 'unexpected "# note" after "as s": a comment is a line of its own that starts with # (put the note on the line above)'],
    ['.close c1 # bye', 'unexpected "# bye": a comment is a line of its own that starts with # (put the note on the line above)'],
  ])('%s', async (line, message) => {
    const rig = commandRig();
    const err = await rig.fail(line);
    expect(err.code).toBe('E_USAGE');
    expect(err.message.split(' — usage:')[0]).toBe(message);
    expect(rig.ctx.session.list()).toEqual([]);
  });

  it('a quoted "as" inside a value is still a value; a name at the end still works', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --greet "hi as bob x" as srv');
    expect(rig.ctx.session.get('srv').id).toBe('s1');
  });

  it('on a payload command a trailing # is payload, sent as typed', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    await rig.ok('.send c1 hi # not a comment');
    await rig.ok('.expect c2 "hi # not a comment"');
  });
});
