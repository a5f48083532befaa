// Takes docs/serve.png: the classroom page during the echo lesson, drawn by
// the headless Chromium the tests use. Run after `npm run build`:
//   node scripts/serve-screenshot.mjs [OUT.png]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { runCommandLine } from '../dist/commands/dispatch.js';
import { COMMANDS } from '../dist/commands/index.js';
import { servingOf } from '../dist/serve/serve.js';
import { createSession } from '../dist/session/session.js';
import { defaultSettings } from '../dist/settings.js';

const out = process.argv[2] ?? new URL('../docs/serve.png', import.meta.url).pathname;
const session = createSession();
const settings = defaultSettings({ time: true });
const ctx = { session, settings, commands: COMMANDS, interactive: false, print: (t) => console.log(t), exit: async () => {} };
const run = async (line) => {
  if (!(await runCommandLine(ctx, line))) throw new Error(`failed: ${line}`);
};

await run('.serve 0');
const { port } = servingOf(session);
const profile = mkdtempSync(join(tmpdir(), 'socklab-shot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 760 },
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('#status[data-state="live"]');
  // Lesson 1, as in examples/echo-server.lab, stopped before the FIN so the connection is still open.
  for (const line of ['.listen 0 --reply echo as echo', '.connect echo as client', '.wait echo accept as conn', '.sendln client hello', '.expect client hello\\n', '.send client "tab\\tand \\x01\\x02"', '.expect client "tab\\tand \\x01\\x02"', '.sendln client <b>not bold</b>', '.expect client </b>\\n']) {
    await run(line);
  }
  await page.waitForFunction(() => document.querySelectorAll('#diagram text.label').length >= 7);
  await page.waitForFunction(() => document.querySelectorAll('#endpoints tbody tr').length === 3);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  await servingOf(session)?.stop();
  await session.shutdown();
}
