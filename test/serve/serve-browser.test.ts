/**
 * The classroom page in a real headless Chromium: live events from a real
 * session, a hostile peer's payload shown as text and never run, a wrong
 * token refused, and a reconnect that resumes with no gap and no duplicate.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, watchedPage, type Browser, type PageWatch } from '../helpers/browser.js';
import { cleanupProcesses, spawnProcess } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, tempDir, track } from '../helpers/loopback.js';
import { patience } from '../helpers/patience.js';
import { servingOf, type Serving } from '../../src/serve/serve.js';

// These run inside the page (page.evaluate and friends); the project compiles without the DOM library.
declare const document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> & Iterable<{ textContent: string | null }> };
declare const window: Record<string, unknown>;

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

async function served(address = '0') {
  const rig = commandRig();
  await rig.ok(`.serve ${address}`);
  const serving = servingOf(rig.ctx.session) as Serving;
  track(() => serving.stop());
  return { rig, serving, base: `http://127.0.0.1:${serving.port}/` };
}

async function open(url: string): Promise<{ page: Page; watch: PageWatch }> {
  const tab = await watchedPage(browser);
  track(() => tab.page.close());
  const response = await tab.page.goto(url);
  expect(response?.status()).toBe(200);
  await tab.page.waitForSelector('#status[data-state="live"]', { timeout: patience(0) });
  return tab;
}

/** The text of the log rows, in order. */
const rowTexts = (page: Page) => page.$$eval('#log li.ev', (rows) => rows.map((r) => r.textContent ?? ''));
const rowSeqs = (page: Page) => page.$$eval('#log li.ev', (rows) => rows.map((r) => Number((r as unknown as { dataset: Record<string, string> }).dataset.seq)));

const HOSTILE = '<script>window.__pwned=1;alert(1)</script><img src=x onerror="window.__pwned=2;alert(2)">';

describe('the page in Chromium', () => {
  it('shows live events, the table and the diagram of a real session', async () => {
    const { rig, base } = await served();
    const { page, watch } = await open(base);
    await rig.ok('.listen 0 --reply echo as echo');
    await rig.ok('.connect echo');
    await rig.ok('.sendln c1 hello class');
    await page.waitForFunction(() => document.querySelectorAll('#log li[data-type="data"]').length >= 2, undefined, { timeout: patience(0) });
    const texts = await rowTexts(page);
    expect(texts.some((t) => t.includes('» .listen 0 --reply echo as echo'))).toBe(true);
    expect(texts.some((t) => t.includes('c1') && t.includes('"hello class\\n"'))).toBe(true);
    await page.waitForFunction(() => document.querySelectorAll('#endpoints tbody tr').length === 3, undefined, { timeout: patience(0) });
    expect(await page.$$eval('#endpoints tbody tr td:first-child', (tds) => tds.map((td) => td.textContent))).toEqual(['s1', 'c1', 'c2']);
    await page.waitForFunction(() => [...document.querySelectorAll('#diagram text')].some((t) => t.textContent?.includes('hello class')), undefined, { timeout: patience(0) });
    // Coloured as the terminal colours it: the connect line is green.
    expect(await page.$$eval('#log li[data-type="connect"] .p-green', (s) => s.length)).toBeGreaterThan(0);
    expect(watch.errors).toEqual([]);
  });

  it('shows a hostile payload, path and command as text: no script runs, no dialog opens', async () => {
    const { rig, base } = await served();
    const { page, watch } = await open(base);
    await rig.ok('.listen 0');
    const port = (await rig.log.waitFor((ev) => ev.type === 'listening')).type === 'listening' ? rig.log.of('listening')[0]!.port : 0;
    // A real peer sends it: nc reads it from stdin and closes.
    spawnProcess('nc', ['-N', '127.0.0.1', String(port)], { input: `${HOSTILE}\n` });
    const sockPath = join(tempDir(), '<img src=x onerror=alert(3)>.sock');
    rig.ctx.session.listen({ path: sockPath });
    await rig.run(`.send nobody ${HOSTILE}`);
    await page.waitForFunction(() => document.querySelectorAll('#log li[data-type="data"]').length >= 1, undefined, { timeout: patience(0) });
    await page.waitForFunction(() => [...document.querySelectorAll('#endpoints td')].some((td) => td.textContent?.includes('onerror=alert(3)')), undefined, { timeout: patience(0) });
    const texts = (await rowTexts(page)).join('\n');
    expect(texts).toContain('<script>window.__pwned=1;alert(1)</script><img src=x onerror=\\"window.__pwned=2;alert(2)\\">');
    expect(texts).toContain('.send nobody <script>');
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.$$eval('img, script:not([src]), iframe, object', (els) => els.length)).toBe(0);
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    // A CSP violation would be reported here: nothing even tried to run.
    expect(watch.console).toEqual([]);
  });

  it('refuses a wrong token with 403 and a note in the terminal; the right one shows the session', async () => {
    const { rig, serving } = await served('0.0.0.0:0');
    const tab = await watchedPage(browser);
    track(() => tab.page.close());
    const wrong = await tab.page.goto(`http://127.0.0.1:${serving.port}/?token=not-the-token`);
    expect(wrong?.status()).toBe(403);
    await rig.log.waitFor((ev) => ev.type === 'note' && ev.message.includes('refused a viewer') && ev.message.includes('wrong token'));
    const { page } = await open(`http://127.0.0.1:${serving.port}/?token=${serving.token}`);
    await rig.ok('.listen 0');
    await page.waitForFunction(() => [...document.querySelectorAll('#log li')].some((li) => li.textContent?.includes('listening on')), undefined, { timeout: patience(0) });
  });

  it('resumes after a dropped connection with no gap and no duplicate', async () => {
    const { rig, serving, base } = await served();
    const { page } = await open(base);
    await rig.ok('.listen 0 --reply echo');
    await rig.ok('.connect s1');
    await page.waitForFunction(() => document.querySelectorAll('#log li[data-type="connect"]').length === 1, undefined, { timeout: patience(0) });
    serving.dropViewers();
    // While the page is away (it reconnects after the stream's retry of 1 s): more happens.
    for (let i = 0; i < 5; i++) await rig.ok(`.send c1 while-away-${i}`);
    await rig.ok('.close c1');
    await page.waitForFunction(() => [...document.querySelectorAll('#log li')].some((li) => li.textContent?.includes('while-away-4')), undefined, { timeout: patience(0) });
    await page.waitForFunction(() => document.querySelectorAll('#log li[data-type="close"]').length === 2, undefined, { timeout: patience(0) });
    const seqs = await rowSeqs(page);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(await page.$$eval('#log li.marker', (m) => m.length)).toBe(0);
  });

  it('has large type for a projector (?large=1) and one column on a phone', async () => {
    const { base } = await served();
    const { page } = await open(`${base}?large=1`);
    expect(await page.evaluate('getComputedStyle(document.body).fontSize')).toBe('24px');
    expect(await page.isChecked('#large')).toBe(true);
    await page.setViewportSize({ width: 390, height: 844 });
    const box = async (sel: string) => (await page.locator(sel).boundingBox())!;
    const [endpoints, log, diagram] = [await box('#endpoints-section'), await box('#log-section'), await box('#diagram-section')];
    // Stacked, each as wide as the screen allows: nothing side by side.
    expect(log.y).toBeGreaterThanOrEqual(endpoints.y + endpoints.height);
    expect(diagram.y).toBeGreaterThanOrEqual(log.y + log.height);
    expect(endpoints.width).toBeGreaterThan(300);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
  });
});
