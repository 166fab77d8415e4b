import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a page (redirects, a server round trip) to settle; its 1 s default is
    // shorter than one busy moment on a loaded 2-core CI machine (the passkey /account heading timed
    // out there). A longer wait only changes how long a real failure takes to report.
    expect: { poll: { timeout: 10_000 } },
    // Integration tests start real servers and Chromium; two workers suit a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
