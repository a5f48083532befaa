import type { CommandContext } from '../commands/define.js';
import { runCommandLine } from '../commands/dispatch.js';
import { messageOf } from '../errors.js';
import { splitCommand } from '../parse/command-line.js';
import { checkScript, type ScriptLine } from './check.js';
import { createJsEvaluator, type JsEvaluator } from './js-eval.js';
import type { Permissions } from './permissions.js';

export interface ScriptRun {
  /** Shown in messages: `demo.lab`. */
  name: string;
  source: string;
  /** What the script may do: from the command line, or inherited by a nested `.replay`. */
  permissions: Permissions;
  /** Absolute paths of the script files running now, outermost first (a script may not replay itself). */
  stack?: string[];
  /** Report every failure instead of stopping at the first. */
  keepGoing: boolean;
}

/** Exit codes of a headless run. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/**
 * Run a script through the same dispatcher as typed lines. Resolves to the
 * exit code: 0 when every line passed, 1 when one failed, 2 when the script
 * was refused before anything ran.
 */
export async function runScript(ctx: CommandContext, script: ScriptRun): Promise<number> {
  const { lines, problems } = checkScript(script.source, ctx.commands, script.permissions, script.stack);
  if (problems.length > 0) {
    // Every usage error (fix them all in one go), but only the first refused
    // JavaScript line: one is enough to say why, a handout of JS would flood.
    const firstJs = problems.find((p) => p.kind === 'js');
    const shown = problems.filter((p) => p.kind !== 'js' || p === firstJs);
    for (const p of shown) {
      // A refused JavaScript line is named by FILE:LINE, never quoted (it may be a secret).
      const line = p.file === undefined && p.kind !== 'js' ? (lines.find((l) => l.number === p.number)?.text.trim() ?? '') : '';
      const source = p.file === undefined ? `${script.name}:${p.number}` : `${script.name} → ${p.file}:${p.number}`;
      ctx.session.emit({ type: 'command-error', t: ctx.session.now(), line, code: 'E_SCRIPT', message: p.message, source });
    }
    return EXIT.USAGE;
  }
  // The lines run with the script's permissions. A view of the caller's context, not a
  // copy: `signal` is set on the caller's while a line blocks (Ctrl+C must reach it).
  const scoped = Object.create(ctx, { permissions: { value: script.permissions } }) as CommandContext;
  const js: { evaluator?: JsEvaluator } = {};
  try {
    return await runLines(scoped, script, lines, js);
  } finally {
    js.evaluator?.close();
  }
}

async function runLines(ctx: CommandContext, script: ScriptRun, lines: ScriptLine[], js: { evaluator?: JsEvaluator }): Promise<number> {
  let failures = 0;
  // A file without one dot-command line may not be a script at all (`.replay ../.env`
  // with --allow-js): its lines and what they threw are not quoted, only named.
  const quote = lines.some((l) => l.kind === 'command');
  for (const line of lines) {
    // Ctrl+C during a `.replay`: the lines after the cancelled one do not run.
    if (ctx.signal?.aborted) return EXIT.FAILED;
    const source = `${script.name}:${line.number}`;
    let ok: boolean;
    if (line.kind === 'command') ok = await runCommandLine(ctx, line.text, source);
    else {
      js.evaluator ??= createJsEvaluator(ctx, script.name);
      // JavaScript may print straight to stdout: what the events printed so far goes first.
      ctx.flush?.();
      ok = await js.evaluator.evaluate(line.text, quote).then(
        () => true,
        (err: unknown) => {
          const message = quote ? messageOf(err) : `JavaScript threw ${thrownKind(err)} (not quoted: ${script.name} has no dot-command line, so it may not be a socklab script)`;
          ctx.session.emit({ type: 'command-error', t: ctx.session.now(), line: quote ? line.text : '', code: 'E_JS', message, source });
          return false;
        },
      );
    }
    if (!ok) {
      failures++;
      if (!script.keepGoing) break;
    }
    // `.exit` leaves: the lines after it must not run against a session that is closing.
    if (ok && line.kind === 'command' && splitCommand(line.text).name === 'exit') break;
  }
  // An error thrown later, between lines (a timer, a socket listener), failed no line: it fails the script.
  if (failures === 0 && (js.evaluator?.thrownLater ?? 0) > 0) return EXIT.FAILED;
  if (failures > 0 && script.keepGoing) {
    const message = `${script.name}: ${failures} of ${lines.length} lines failed`;
    ctx.session.emit({ type: 'note', t: ctx.session.now(), message });
  }
  return failures === 0 ? EXIT.OK : EXIT.FAILED;
}

/** The class of what a line threw (`ReferenceError`), never its message; escaped by the renderers. */
function thrownKind(err: unknown): string {
  const name = err instanceof Error ? err.constructor.name : typeof err;
  return /^[A-Za-z]{1,40}$/.test(name) ? `a ${name}` : 'a value';
}
