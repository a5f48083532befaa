/** Assertions on the one error class: what a call threw, what a promise rejected with. */
import { expect } from 'vitest';
import { SocklabError } from '../../src/errors.js';

/** The SocklabError `fn` throws; fails the test if it throws nothing or something else. */
export function thrown(fn: () => unknown): SocklabError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SocklabError);
    return err as SocklabError;
  }
  throw new Error('expected a SocklabError, but nothing was thrown');
}

/** The SocklabError `p` rejects with; fails the test if it resolves or rejects with something else. */
export async function rejection(p: Promise<unknown>): Promise<SocklabError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SocklabError);
  return err as SocklabError;
}
