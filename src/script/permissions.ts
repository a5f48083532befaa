import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { SocklabError } from '../errors.js';
import type { Variables } from './variables.js';

/**
 * What a running script may do (SPEC section 6). Permissions come only from
 * the command line or, in the REPL, from the person typing: a script never
 * holds more than the run that started it, and a nested `.replay` inherits
 * its parent's and can add none.
 */
export interface Permissions {
  /** `--allow-js`: run the JavaScript lines. */
  js: boolean;
  /** `--allow-read`: `file:` payloads and `.replay` may leave the script's folder. */
  read: boolean;
  /** `--allow-write`: `.record` and any file a script would create. */
  write: boolean;
  /** Absolute folder the script's relative paths resolve against: its own folder. */
  base: string;
  /** Absolute folder of the outermost script: without `read`, every path stays inside it. */
  root: string;
  /**
   * The run's variables (`--var`, then the environment) that `${NAME}` in the
   * script's command lines reads; inherited by a nested `.replay` as the
   * permissions are. Undefined: no substitution (the text runs as it is).
   */
  vars?: Variables;
}

/** How a command line uses a file: read it (`file:`, `.replay`) or create/write it (`.record`). */
export interface FileUse {
  path: string;
  access: 'read' | 'write';
  /** What uses it, for the message: `.replay`, `.record`, or for a payload `--greet file:` (the path is glued on). */
  what: string;
}

/** Permissions of a script at `file` (or stdin when undefined, whose folder is the working directory). */
export function scriptPermissions(file: string | undefined, flags: { js: boolean; read: boolean; write: boolean }, vars?: Variables): Permissions {
  const base = file === undefined ? process.cwd() : dirname(resolve(file));
  return { ...flags, base, root: base, ...(vars !== undefined && { vars }) };
}

/** The permissions of a script at `file` replayed from a script holding `parent`. */
export function nestedPermissions(parent: Permissions, file: string): Permissions {
  return { ...parent, base: dirname(resolve(parent.base, file)) };
}

/**
 * The one check every file path of a script goes through (`file:` payloads,
 * `--greet`, `--reply`, `.expect`, `.replay`, `.record`). `perms` undefined
 * means the person typing, who holds every permission: the path is used as
 * typed. Otherwise relative paths resolve against the script's folder;
 * without `read` a path may not be absolute, nor leave the outermost
 * script's folder (`..`, or a symlink whose target lies outside); without
 * `write` nothing is written. Returns the path to open.
 *
 * Throws `SocklabError` `E_PERMISSION` naming the path and the flag that would allow it.
 */
export function checkFile(perms: Permissions | undefined, use: FileUse): string {
  if (perms === undefined) return use.path;
  const { path } = use;
  // `file:` names glue to their path (`--greet file:key`); the others take a space (`.replay x.lab`).
  const what = use.what.endsWith(':') ? use.what.slice(0, -1 - 'file'.length).trimEnd() : use.what;
  const shown = use.what.endsWith(':') ? `file:${path}` : path;
  if (use.access === 'write') {
    if (!perms.write) throw refused(`${what} ${shown} would write a file`, '--allow-write');
    return resolve(perms.base, path);
  }
  const full = resolve(perms.base, path);
  if (perms.read) return full;
  if (isAbsolute(path)) throw refused(`${what} ${shown} is an absolute path outside the script's folder`, '--allow-read');
  if (!inside(perms.root, full)) throw refused(`${what} ${shown} leads out of the script's folder`, '--allow-read');
  // A symlink inside the folder may point anywhere: the real path must stay inside too.
  if (!inside(realpathOf(perms.root), realpathOf(full))) {
    throw refused(`${what} ${shown} is a symlink that leads out of the script's folder`, '--allow-read');
  }
  return full;
}

function refused(what: string, flag: string): SocklabError {
  return new SocklabError('E_PERMISSION', `${what}: a script does that only when run with ${flag}`);
}

function inside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest (a file not there yet). */
function realpathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return resolve(realpathOf(parent), relative(parent, path));
  }
}
