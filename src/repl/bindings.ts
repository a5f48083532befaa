import type { Context } from 'node:vm';
import type { Session } from '../session/session.js';
import { kindOf } from '../session/endpoint.js';

/**
 * Bind every id and alias in a JavaScript context to its live Node object
 * (its kind's handle: `c1` → net.Socket, `s1` → net.Server) and `session` to the session.
 * Getters, so a name always reads the current object.
 */
export function createBinder(session: Session, context: Context): () => void {
  const bound = new Map<string, unknown>();
  context.session = session;
  return () => {
    for (const [name, ep] of session.names()) {
      if (bound.get(name) === ep) continue;
      bound.set(name, ep);
      const value = kindOf(ep).handle(ep);
      Object.defineProperty(context, name, { configurable: true, enumerable: true, get: () => value });
    }
  };
}
