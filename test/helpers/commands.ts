/**
 * A real CommandContext for command tests: a recorded session, settings,
 * printed output collected into an array, non-interactive by default.
 */
import { expect } from 'vitest';
import type { CommandContext } from '../../src/commands/define.js';
import { runCommandLine } from '../../src/commands/dispatch.js';
import { COMMANDS } from '../../src/commands/index.js';
import type { CommandErrorEvent } from '../../src/session/events.js';
import type { SessionOptions } from '../../src/session/manager.js';
import { defaultSettings, type Settings } from '../../src/settings.js';
import { newSession, type EventLog } from './loopback.js';

export interface CommandRig {
  ctx: CommandContext;
  log: EventLog;
  settings: Settings;
  /** Everything `print` received. */
  printed: string[];
  /** Times `exit` was called. */
  exits: number;
  /** Run a line; resolves to runCommandLine's verdict. */
  run(line: string): Promise<boolean>;
  /** Run a line that must succeed; on failure, throws with its command-error. */
  ok(line: string): Promise<void>;
  /** Run a line that must fail; returns its command-error event. */
  fail(line: string): Promise<CommandErrorEvent>;
}

export function commandRig(options: { session?: SessionOptions; interactive?: boolean } = {}): CommandRig {
  const { session, log } = newSession(options.session);
  const settings = defaultSettings({ time: false });
  const rig: CommandRig = {
    log,
    settings,
    printed: [],
    exits: 0,
    ctx: {
      session,
      settings,
      commands: COMMANDS,
      interactive: options.interactive ?? false,
      print: (text) => rig.printed.push(text),
      exit: async () => {
        rig.exits++;
      },
    },
    run: (line) => runCommandLine(rig.ctx, line),
    async ok(line) {
      const before = log.of('command-error').length;
      const passed = await rig.run(line);
      const error = log.of('command-error')[before];
      if (!passed || error) throw new Error(`${line} failed: ${error?.code} ${error?.message}`);
    },
    async fail(line) {
      const before = log.of('command-error').length;
      expect(await rig.run(line), `${line} should fail`).toBe(false);
      const errors = log.of('command-error').slice(before);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.line).toBe(line.trim());
      return errors[0] as CommandErrorEvent;
    },
  };
  return rig;
}
