import { EventEmitter } from 'node:events';

/**
 * What node:repl uses of its `domain` option: `bind(fn)` around its eval,
 * and the `error` event it listens to (and emits for an error a line threw).
 */
export interface ReplDomain extends EventEmitter {
  bind<F extends (...args: never[]) => unknown>(fn: F): F;
}

/** REPLs open now, newest last: an uncaught error goes to the newest. */
const open: ReplDomain[] = [];

function routeUncaught(err: unknown): void {
  open[open.length - 1]?.emit('error', err);
}

/** True while a REPL runs the line typed (node:repl calls its eval through `bind`). */
let evaluating = 0;

/**
 * What Node's REPL refuses too (ERR_INVALID_REPL_INPUT): a line that adds an
 * `uncaughtException` listener. One that throws would end the process, and
 * the REPL's own error display would never be reached.
 */
function refuseUncaughtListener(event: string | symbol): void {
  if (event !== 'uncaughtException' || evaluating === 0) return;
  throw Object.assign(new Error('Listeners for `uncaughtException` cannot be used in the REPL'), { code: 'ERR_INVALID_REPL_INPUT' });
}

/**
 * A stand-in for the `node:domain` that `repl.start()` creates when given
 * none (the undocumented `domain` option, read as `options.domain ||
 * domain.create()` in Node 20's lib/repl.js).
 *
 * Why: the first `Domain` ever created enables an async hook for the whole
 * process (init/before/after/destroy on every socket write, timer and
 * callback), which cost ~4,500 instructions per 64-byte echo round trip, a
 * tenth of socklab's per-event cost, though socklab's sockets are never in
 * the REPL's domain. What the domain did for a user is kept: an error that
 * JavaScript typed at the prompt throws later (a timer, a listener added to
 * `c1`) reaches the REPL through `process.on('uncaughtException')` and is
 * printed as `Uncaught Error: …` while the process lives on. With Node's
 * domain a throw in `c1.on('data', …)` killed the process (the socket was
 * not created in the domain). Errors thrown by a line itself still reach the
 * REPL as before: node:repl emits them on this object. An error of
 * socklab's own (a bug) is shown the same way, and the session lives on.
 * As in Node's REPL, a line may not add an `uncaughtException` listener.
 *
 * Script JavaScript (`src/script/js-eval.ts`) keeps a real domain: there an
 * error must fail the file whose code threw it, even with `--jobs`.
 *
 * Returns the domain and `dispose()`, to call when the REPL closes.
 */
export function createReplDomain(): { domain: ReplDomain; dispose: () => void } {
  const bind = <F extends (...args: never[]) => unknown>(fn: F): F =>
    // Named: node:repl cuts an error's stack at the lowest unnamed frame, which must be the line's own code.
    function socklabEvaluating(this: unknown, ...args: never[]) {
      evaluating++;
      try {
        return fn.apply(this, args);
      } finally {
        evaluating--;
      }
    } as F;
  const domain = Object.assign(new EventEmitter(), { bind }) as ReplDomain;
  if (open.length === 0) {
    process.on('uncaughtException', routeUncaught);
    (process as NodeJS.EventEmitter).prependListener('newListener', refuseUncaughtListener);
  }
  open.push(domain);
  let disposed = false;
  return {
    domain,
    dispose() {
      if (disposed) return;
      disposed = true;
      open.splice(open.indexOf(domain), 1);
      if (open.length === 0) {
        process.removeListener('uncaughtException', routeUncaught);
        (process as NodeJS.EventEmitter).removeListener('newListener', refuseUncaughtListener);
      }
    },
  };
}

/** True while some REPL (or script) hears the errors nobody caught. */
export function uncaughtIsRouted(): boolean {
  return open.length > 0;
}
