import type { Command, CommandTable } from './define.js';
import { close, connect, destroy, end, listen, pause, resume } from './endpoints.js';
import { sendCommand, sendln } from './data.js';
import { udp } from './udp.js';
import { proxy } from './relay.js';
import { fault } from './fault.js';
import { ls, set, show, view } from './view.js';
import { tcp } from './tcp.js';
import { exit, help } from './session.js';
import { expect, record, replay, sleepCommand, wait } from './scripts.js';
import { attach, detach, explain, timeline } from './teaching.js';
import { transcript } from './transcript.js';
import { serve } from './serve.js';
import { off, on } from './rules.js';

const ALL: Command[] = [
  ...[listen, connect, udp, proxy, fault, end, close, destroy, pause, resume],
  ...[sendCommand, sendln, attach, detach],
  ...[wait, expect, sleepCommand, on, off, record, replay, transcript],
  ...[ls, show, tcp, view, set],
  ...[explain, timeline, serve],
  ...[help, exit],
];

/** Every dot-command by name. One entry drives dispatch, `.help`, completion and script checks. */
export const COMMANDS: CommandTable = new Map(ALL.map((c) => [c.name, c]));
