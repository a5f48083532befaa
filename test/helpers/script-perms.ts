/**
 * A lesson folder for script-permission tests: a temp dir (removed by
 * `closeAll`) holding `main.lab`'s place, and the permissions a run of that
 * script would hold; plus the messages the script checker gives a source.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../src/commands/index.js';
import { checkScript } from '../../src/script/check.js';
import { scriptPermissions, type Permissions } from '../../src/script/permissions.js';
import { tempDir } from './loopback.js';

/** No permission at all: what a downloaded script gets by default. */
export const NONE = { js: false, read: false, write: false };

/** A fresh folder `lesson/` and the permissions of `lesson/main.lab` run with `flags`. */
export function lesson(flags: Partial<typeof NONE> = {}): { dir: string; perms: Permissions } {
  const dir = join(tempDir(), 'lesson');
  mkdirSync(dir);
  return { dir, perms: scriptPermissions(join(dir, 'main.lab'), { ...NONE, ...flags }) };
}

/** The checker's messages for `source` under `perms` (empty: it would run). */
export const problems = (source: string, perms: Permissions): string[] => checkScript(source, COMMANDS, perms).problems.map((p) => p.message);
