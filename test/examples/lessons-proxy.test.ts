/**
 * proxy-watch.lab (SPEC 10): curl → a socklab relay → a socklab `--http`
 * server, both directions on one screen. The lesson runs alone (its own raw
 * client), and its two lines serve a real curl through the relay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLessons, hasTool, lessonSource, runLesson, socklab, start, withListenPort } from '../helpers/lessons.js';

afterEach(cleanupLessons);

const OK = { code: 0, signal: null };

describe('proxy-watch.lab', () => {
  it('runs alone and exits 0: the request goes up (⇒), the answer comes down (⇐), the timeline has three columns', async () => {
    const { exit, proc } = await runLesson('proxy-watch', withListenPort(lessonSource('proxy-watch'), 0));
    expect(exit, proc.describe()).toEqual(OK);
    const out = proc.stdout();
    expect(out).toMatch(/^p1 +listening on 127\.0\.0\.1:\d+ → relaying to 127\.0\.0\.1:\d+ as watch$/m);
    expect(out).toMatch(/^p1 +c2 ⇒ c3  79 B  "POST \/ HTTP\/1\.1\\r\\nHost: localhost/m);
    expect(out).toMatch(/^p1 +c2 ⇐ c3  115 B  "HTTP\/1\.1 200 OK\\r\\n/m);
    expect(out).toMatch(/^ +c1 +p1 +c4$/m);
  });

  it.skipIf(!hasTool('curl'))('curl through the relay gets You said "hello"; the relay shows its request and the answer', async () => {
    const lines = withListenPort(lessonSource('proxy-watch'), 0)
      .split('\n')
      .filter((l) => /^\.(listen|proxy) /.test(l));
    expect(lines).toHaveLength(2);
    const proc = socklab(['--no-time', ...lines.flatMap((l) => ['-e', l])], { stdin: 'pipe' });
    const port = await proc.waitFor('the relay listening', () => /^p1 +listening on 127\.0\.0\.1:(\d+)/m.exec(proc.stdout())?.[1]);
    const curl = start('curl', ['-sS', '--max-time', '10', '--data', 'hello', `http://127.0.0.1:${port}/`]);
    expect(await curl.waitForExit(15_000), curl.describe()).toEqual(OK);
    expect(curl.stdout()).toBe('You said "hello"');
    await proc.waitForText(/^p1 +c\d+ ⇐ c\d+  \d+ B  "HTTP\/1\.1 200 OK\\r\\n/m);
    expect(proc.stdout()).toMatch(/^p1 +c(\d+) ⇒ c(\d+)  \d+ B  "POST \/ HTTP\/1\.1\\r\\nHost: 127\.0\.0\.1:\d+\\r\\nUser-Agent: curl/m);
    // curl hangs up: its socket's FIN is passed on to the server's side.
    await proc.waitForText(/^p1 +closed|^c\d+ +closed/m);
    proc.end();
    expect(await proc.waitForExit(10_000), proc.describe()).toEqual(OK);
  });
});
