import type { Command, CommandTable } from './define.js';
import { close, connect, destroy, end, listen, pause, resume } from './endpoints.js';
import { sendCommand, sendln } from './data.js';
import { ls, set, show, view } from './view.js';
import { exit, help } from './session.js';
import { expect, record, replay, sleepCommand, wait } from './scripts.js';

const ALL: Command[] = [
  ...[listen, connect, end, close, destroy, pause, resume],
  ...[sendCommand, sendln],
  ...[wait, expect, sleepCommand, record, replay],
  ...[ls, show, view, set],
  ...[help, exit],
];

/** Every dot-command by name. One entry drives dispatch, `.help`, completion and script checks. */
export const COMMANDS: CommandTable = new Map(ALL.map((c) => [c.name, c]));
