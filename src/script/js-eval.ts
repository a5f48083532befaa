import repl, { type REPLServer } from 'node:repl';
import { PassThrough, Writable } from 'node:stream';
import type { CommandContext } from '../commands/define.js';
import { SocklabError, messageOf } from '../errors.js';
import { createBinder } from '../repl/bindings.js';
import { createReplDomain, uncaughtIsRouted } from '../repl/light-domain.js';
import { isLive } from '../session/endpoint.js';

/** Evaluates a script's JavaScript lines; `close` ends it. */
export interface JsEvaluator {
  /** Run one line; resolves with its value, rejects with what it threw. `echo` false: no `command` event quotes it. */
  evaluate(code: string, echo?: boolean): Promise<unknown>;
  /** Errors thrown later, while no line of it was running (each shown as an `E_JS` line). */
  readonly thrownLater: number;
  close(): void;
}

/**
 * Evaluate script JavaScript exactly as the REPL does (SPEC section 6): the
 * lines go through a `node:repl` evaluator of their own (output discarded),
 * so `require`, `import()` and top-level `await` (`const x = await …` keeps
 * `x` for the next line) behave as typed at the prompt, and a recorded
 * session replays. Ids, aliases and `session` are bound before each line.
 *
 * node:repl reports a thrown error to its domain, not to the eval callback:
 * the domain's error rejects the line that is running. An error thrown
 * later (a timer set by an earlier line) fails the line running then, or
 * shows as an `E_JS` command error between lines.
 */
export function createJsEvaluator(ctx: CommandContext, filename: string): JsEvaluator {
  const input = new PassThrough();
  const output = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const server: REPLServer = repl.start({ input, output, terminal: false, prompt: '', useColors: false });
  // node:repl's console writes to its (discarded) output; a script's console.log is the process's.
  server.context.console = console;
  const bind = createBinder(ctx.session, server.context);
  let pending: ((err: unknown) => void) | undefined;
  // node:repl keeps its domain private; it is the only way to hear what a line threw.
  const domain = (server as unknown as { _domain: NodeJS.EventEmitter })._domain;
  // An error thrown where the domain does not reach (a listener the script's JavaScript added to a
  // socket that a dot-command opened) comes here too when no REPL hears it: headless, it ended
  // the process with a raw stack (review 3 #4). Under a REPL (`.replay`), the REPL shows it.
  const fallback = uncaughtIsRouted() ? undefined : createReplDomain();
  let thrownLater = 0;
  const onError = (err: unknown): void => {
    const reject = pending;
    pending = undefined;
    if (reject) reject(err);
    else {
      const s = ctx.session;
      thrownLater++;
      s.emit({ type: 'command-error', t: s.now(), line: '', code: 'E_JS', message: `JavaScript of ${filename} threw later: ${messageOf(err)}` });
    }
  };
  domain.on('error', onError);
  fallback?.domain.on('error', onError);
  return {
    get thrownLater() {
      return thrownLater;
    },
    evaluate(code, echo = true) {
      bind();
      if (echo) ctx.session.emit({ type: 'command', t: ctx.session.now(), line: code.trim() });
      return new Promise((resolve, reject) => {
        pending = reject;
        server.eval(`${code}\n`, server.context, filename, (err, result) => {
          pending = undefined;
          if (err === null) resolve(result);
          // node:repl's "wait for more input" error has no message.
          else reject(err.name === 'Recoverable' || err.message === '' ? new SocklabError('E_SCRIPT', 'incomplete JavaScript: a script line must be a whole statement', { cause: err }) : err);
        });
      });
    },
    close() {
      server.close();
      input.end();
      // The sockets still open are closed after the last line: their listeners may still throw.
      if (fallback) afterLastClose(ctx.session, fallback.dispose);
    },
  };
}

/** Call `fn` once no endpoint of the session is live (at once if none is). */
function afterLastClose(session: CommandContext['session'], fn: () => void): void {
  const live = (): boolean => session.list().some(isLive);
  if (!live()) return fn();
  const unsubscribe = session.subscribe(
    () => {
      if (live()) return;
      unsubscribe();
      fn();
    },
    { types: ['close'] },
  );
}
