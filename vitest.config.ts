import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Hang detectors, not speed bounds: a test that passes returns as soon as it is done.
    // CI is a 2-core machine that may be loaded; the slowest tests take ~20 s alone and
    // several times that under load. Every wait inside a test lasts at least
    // MIN_WAIT_MS (test/helpers/patience.ts), so these leave room for a few of them.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A test that fails once is a defect to fix, never something to hide by running it again.
    retry: 0,
    // Network tests open real sockets and child processes; one file per core keeps a
    // 2-core machine responsive (more workers only make every timing worse).
    maxWorkers: 2,
  },
});
