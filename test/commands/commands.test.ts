import { afterEach, describe, expect, it } from 'vitest';
import { prepareCommand } from '../../src/commands/dispatch.js';
import { COMMANDS } from '../../src/commands/index.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, closedPort } from '../helpers/loopback.js';

afterEach(closeAll);

describe('usage errors: one command-error with a code and a clear text, nothing changes', () => {
  it.each([
    ['.listen 70000', 'E_BAD_ADDRESS', 'port 70000 is out of range: use 0–65535 (0 picks a free port)'],
    ['.listen abc', 'E_BAD_ADDRESS', 'bad address "abc": use PORT, HOST:PORT, [IPv6]:PORT or a socket path like ./lab.sock'],
    ['.listen :80', 'E_BAD_ADDRESS', 'bad address ":80": the host is empty; use PORT, HOST:PORT, [IPv6]:PORT or a socket path like ./lab.sock'],
    ['.connect 0', 'E_BAD_ADDRESS', 'port 0 is out of range: use 1–65535'],
    ['.listen', 'E_USAGE', 'missing ADDRESS — usage: .listen [HOST:]PORT | PATH [opts] [as NAME]'],
    ['.listen 0 1', 'E_USAGE', 'unexpected "1" — usage: .listen [HOST:]PORT | PATH [opts] [as NAME]'],
    ['.end c9', 'E_UNKNOWN_ID', 'no endpoint "c9" (or it closed long ago): nothing is open yet; .ls lists them'],
    ['.show bob', 'E_UNKNOWN_ID', 'no endpoint "bob": nothing is open yet; .ls lists them'],
    ['.lisen 0', 'E_UNKNOWN_COMMAND', 'unknown command .lisen: did you mean .listen? .help lists the commands'],
    ['.frobnicate', 'E_UNKNOWN_COMMAND', 'unknown command .frobnicate: .help lists the commands'],
    ['.help lisen', 'E_UNKNOWN_COMMAND', 'unknown command .lisen: did you mean .listen? .help lists the commands'],
    ['.listen 0 --max 0', 'E_USAGE', '--max takes a whole number ≥ 1, not "0" — usage: .listen [HOST:]PORT | PATH [opts] [as NAME]'],
    ['.listen 0 --timeout 5x', 'E_BAD_DURATION', 'bad duration "5x": use milliseconds or a suffix: 500ms, 5s, 2m'],
    ['.listen 0 --reply', 'E_USAGE', '--reply needs a value (SPEC) — usage: .listen [HOST:]PORT | PATH [opts] [as NAME]'],
    ['.listen 0 --half-open=yes', 'E_USAGE', '--half-open takes no value — usage: .listen [HOST:]PORT | PATH [opts] [as NAME]'],
    ['.listen 0 --http --reply echo', 'E_BAD_OPTION', expect.stringMatching(/^--reply echo does not apply to --http/)],
    ['.listen 0 as s2', 'E_USAGE', expect.stringMatching(/^bad name "s2"/)],
    ['.connect 9 --family 5', 'E_USAGE', '--family takes 4 or 6, not 5'],
    ['.view purple', 'E_USAGE', 'unknown view "purple": use text, hex, both or off'],
    ['.set eol weird', 'E_USAGE', '.set eol takes lf | crlf | cr | none'],
    ['.set maxbytes 0', 'E_USAGE', '.set maxbytes takes a number of bytes ≥ 1'],
    ['.set volume 11', 'E_USAGE', 'unknown setting "volume": use eol, time, color, maxbytes'],
    ['.send all hi', 'E_STATE', 'no open socket to send to: .connect or wait for a client first'],
    ['.listen 0 --greet "unterminated', 'E_USAGE', 'unterminated double quote at column 19: close it with "'],
  ])('%s → %s', async (line, code, message) => {
    const rig = commandRig();
    const error = await rig.fail(line);
    expect(error.code).toBe(code);
    expect(error.message).toEqual(message);
    expect(rig.ctx.session.list()).toEqual([]);
  });

  it('unknown option suggests the nearest and lists the options', async () => {
    const rig = commandRig();
    const error = await rig.fail('.listen 0 --rply echo');
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toMatch(/^unknown option --rply: did you mean --reply\? options: --reply --greet --timeout /);
    expect(error.message).toMatch(/ — usage: \.listen /);
  });

  it('payload errors: a lone backslash before another character', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    const error = await rig.fail('.send c1 \\q');
    expect(error.code).toBe('E_BAD_PAYLOAD');
    expect(error.message).toMatch(/\\q/);
    expect(rig.log.of('send')).toEqual([]);
  });

  it('missing payload and wrong endpoint kinds', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    expect(await rig.fail('.send c1')).toMatchObject({ code: 'E_USAGE', message: 'missing PAYLOAD — usage: .send [opts] TARGET PAYLOAD' });
    expect(await rig.fail('.end s1')).toMatchObject({ code: 'E_USAGE', message: 's1 is a server: this needs a socket (c1, c2, …)' });
    expect(await rig.fail('.connect c1')).toMatchObject({ code: 'E_USAGE', message: 'c1 is a socket: connect to a server (s1), a relay (p1) or an address' });
    expect(await rig.fail('.ls c1')).toMatchObject({ code: 'E_USAGE', message: 'c1 is a socket: this needs a server (s1, s2, …)' });
    expect(await rig.fail('.view hex s1')).toMatchObject({ code: 'E_USAGE' });
    expect(await rig.fail('.end c9')).toMatchObject({ code: 'E_UNKNOWN_ID', message: expect.stringMatching(/^no endpoint "c9" \(or it closed long ago\): open now: s1, c1, c2;/) });
  });

  it('a refused connect fails the line with the OS code in scripts, and only as an event in the REPL', async () => {
    const port = await closedPort();
    const script = commandRig();
    const error = await script.fail(`.connect ${port}`);
    expect(error).toMatchObject({ code: 'E_NET', message: `c1: connect ECONNREFUSED 127.0.0.1:${port}` });
    const repl = commandRig({ interactive: true });
    expect(await repl.run(`.connect ${port}`)).toBe(false);
    await repl.log.waitFor((ev) => ev.type === 'close');
    expect(repl.log.of('command-error')).toEqual([]);
    expect(repl.log.of('error')).toEqual([expect.objectContaining({ code: 'ECONNREFUSED' })]);
  });

  it('EADDRINUSE fails .listen with the OS code', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    const port = rig.log.of('listening')[0]?.port;
    const error = await rig.fail(`.listen ${port}`);
    expect(error.code).toBe('E_NET');
    expect(error.message).toMatch(/^s2: listen EADDRINUSE/);
  });
});

describe('.help', () => {
  it('lists every command, grouped', async () => {
    const rig = commandRig();
    await rig.ok('.help');
    const text = rig.printed.join('\n');
    for (const name of COMMANDS.keys()) expect(text).toMatch(new RegExp(`^  \\.${name} `, 'm'));
    expect(text).toMatch(/^Endpoints:$/m);
    expect(text).toContain('.help NAME shows usage, options and examples.');
  });

  it.each([...COMMANDS.keys()])('.help %s shows usage, summary and examples that parse', async (name) => {
    const rig = commandRig();
    await rig.ok(`.help ${name}`);
    const command = COMMANDS.get(name)!;
    const text = rig.printed.join('\n');
    expect(text.split('\n')[0]).toBe(command.args.usage);
    expect(text).toContain(command.summary);
    expect(command.examples.length).toBeGreaterThan(0);
    expect(command.examples.some((e) => e === `.${name}` || e.startsWith(`.${name} `))).toBe(true);
    for (const example of command.examples) {
      expect(() => prepareCommand(rig.ctx, example), example).not.toThrow();
      expect(text).toContain(`    ${example}`);
    }
    for (const option of Object.keys(command.args.options ?? {})) expect(text).toContain(`--${option}`);
  });

  it('accepts the name with its dot', async () => {
    const rig = commandRig();
    await rig.ok('.help .send');
    expect(rig.printed[0]?.split('\n')[0]).toBe('.send [opts] TARGET PAYLOAD');
  });
});

describe('.exit', () => {
  it('calls the context exit', async () => {
    const rig = commandRig();
    await rig.ok('.exit');
    expect(rig.exits).toBe(1);
    expect(await rig.fail('.exit now')).toMatchObject({ code: 'E_USAGE', message: 'unexpected "now" — usage: .exit' });
  });
});
