/**
 * A Node without the `onread` fields socklab looks for (src/endpoints/tcp-read-buffer.ts
 * finds them by their symbols' descriptions): nothing switches, and a bulk echo
 * reads as Node does, every byte intact. The fields are hidden from the probe
 * here before this file's first socket (each test file has its own modules).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { oneClient } from '../helpers/one-client.js';
import { closeAll, collect, until } from '../helpers/loopback.js';
import { ownBufferSocketsInUse, ownBufferStats } from '../../src/endpoints/tcp-read-buffer.js';

const getOwnPropertySymbols = Object.getOwnPropertySymbols;
Object.getOwnPropertySymbols = (o: object): symbol[] => getOwnPropertySymbols(o).filter((s) => s.description !== 'kBufferGen');
afterAll(async () => {
  Object.getOwnPropertySymbols = getOwnPropertySymbols;
  await closeAll();
});

const hash = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('a Node without the onread fields', () => {
  it('--reply echo of 8 MiB of random bytes: no socket switches, every byte comes back intact', async () => {
    const { rig, client, c1 } = await oneClient('--reply echo');
    const back = collect(client);
    let received = 0;
    client.on('data', (d: Buffer) => (received += d.length));
    const payload = randomBytes(8 * 1024 * 1024);
    client.write(payload);
    await until(() => received >= payload.length, 20_000, 'the echo of 8 MiB');
    expect(hash(back.data())).toBe(hash(payload));
    expect(hash(Buffer.concat(rig.log.of('data', 'c1').map((ev) => ev.data)))).toBe(hash(payload));
    // The case it guards: chunks long enough to switch did arrive, and nothing switched.
    expect(Math.max(...rig.log.of('data', 'c1').map((ev) => ev.data.length))).toBeGreaterThanOrEqual(32 * 1024);
    expect(ownBufferStats(c1.socket)).toBeUndefined();
    expect(ownBufferSocketsInUse()).toBe(0);
  });
});
