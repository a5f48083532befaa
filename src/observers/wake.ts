/**
 * Sleep until woken, `ms` pass, or `signal` aborts, whichever comes first.
 * `setWaiter` receives the wake function (an observer calls it when new data
 * arrives) and is given undefined again once the sleep ends.
 */
export async function sleepUntilWoken(ms: number, signal: AbortSignal | undefined, setWaiter: (wake: (() => void) | undefined) => void): Promise<void> {
  await new Promise<void>((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
    setWaiter(wake);
  });
  setWaiter(undefined);
}
