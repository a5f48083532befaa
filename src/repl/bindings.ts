import type { Context } from 'node:vm';
import type { Session } from '../session/session.js';
import { kindOf, type Endpoint } from '../session/endpoint.js';

/**
 * Bind every id and alias in a JavaScript context to its live Node object
 * (its kind's handle: `c1` → net.Socket, `s1` → net.Server) and `session` to the session.
 * Getters, so a name always reads the current object. A name the session no
 * longer knows (an endpoint it forgot, MAX_CLOSED_KEPT closed ones later) is
 * unbound, so a long session does not keep every closed socket alive through
 * the context.
 */
export function createBinder(session: Session, context: Context): () => void {
  const bound = new Map<string, { ep: Endpoint; get: () => unknown }>();
  context.session = session;
  return () => {
    const names = new Map(session.names());
    for (const [name, { get }] of bound) {
      if (names.has(name)) continue;
      bound.delete(name);
      // Only our own binding: a name JavaScript redefined since is the user's.
      if (Object.getOwnPropertyDescriptor(context, name)?.get === get) delete context[name];
    }
    for (const [name, ep] of names) {
      if (bound.get(name)?.ep === ep) continue;
      const value = kindOf(ep).handle(ep);
      const get = (): unknown => value;
      bound.set(name, { ep, get });
      Object.defineProperty(context, name, { configurable: true, enumerable: true, get });
    }
  };
}
