/**
 * The JavaScript bindings of ids and aliases (src/repl/bindings.ts): a name
 * reads its endpoint's live Node object, and a name the session forgot is
 * unbound again, so a long session does not keep every closed socket alive
 * through the REPL's context (found by the accept helper, session 4). Pure:
 * stand-in endpoints, no sockets.
 */
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createBinder } from '../../src/repl/bindings.js';
import '../../src/endpoints/kinds.js';
import type { Endpoint } from '../../src/session/endpoint.js';
import type { Session } from '../../src/session/session.js';

const socket = (name: string): Endpoint => ({ kind: 'socket', id: name, socket: { name } }) as unknown as Endpoint;

describe('createBinder', () => {
  it('binds each name to its handle, and unbinds the names the session no longer knows', () => {
    let names: Array<[string, Endpoint]> = [];
    const session = { names: () => names } as unknown as Session;
    const context = vm.createContext({});
    const bind = createBinder(session, context);
    const c1 = socket('c1');
    const c2 = socket('c2');
    names = [['c1', c1], ['c2', c2], ['alice', c2]];
    bind();
    expect(vm.runInContext('[c1.name, c2.name, alice.name].join()', context)).toBe('c1,c2,c2');
    // c1 forgotten (closed long ago); alice now names another endpoint.
    const c3 = socket('c3');
    names = [['c2', c2], ['c3', c3], ['alice', c3]];
    bind();
    expect(vm.runInContext('typeof c1', context)).toBe('undefined');
    expect(Object.getOwnPropertyDescriptor(context, 'c1')).toBeUndefined();
    expect(vm.runInContext('[c2.name, c3.name, alice.name].join()', context)).toBe('c2,c3,c3');
  });

  it('leaves alone a name that JavaScript defined over a binding', () => {
    let names: Array<[string, Endpoint]> = [['c1', socket('c1')]];
    const session = { names: () => names } as unknown as Session;
    const context = vm.createContext({});
    const bind = createBinder(session, context);
    bind();
    vm.runInContext('Object.defineProperty(globalThis, "c1", { value: 42, configurable: true })', context);
    names = [];
    bind();
    expect(vm.runInContext('c1', context)).toBe(42);
  });
});
