/**
 * How long a test waits for something before it gives up. Every wait in the
 * harnesses is a hang detector, never a speed bound: on a loaded 2-core CI
 * machine starting a child process or a tmux pane can take seconds, so a wait
 * lasts at least {@link MIN_WAIT_MS}, whatever shorter time a test names (the
 * number a test passes says how long the thing takes when all is well).
 * A wait that succeeds returns as soon as its event comes: this costs nothing
 * on a passing run.
 */
export const MIN_WAIT_MS = 20_000;

/** The time a harness waits, ms: `ms`, but never less than {@link MIN_WAIT_MS}. */
export const patience = (ms: number): number => Math.max(ms, MIN_WAIT_MS);
