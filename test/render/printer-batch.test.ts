import { describe, expect, it } from 'vitest';
import { HumanPrinter } from '../../src/render/printer.js';
import { defaultSettings } from '../../src/settings.js';

// Output to a pipe is gathered for a few milliseconds and written at once; the
// printer re-arms one timer per batch. These are the batches after the first.

/** A printer whose writes are kept, and a promise for the next write. */
function batched(batchMs: number) {
  const writes: string[] = [];
  let wake: (() => void) | undefined;
  const printer = new HumanPrinter(defaultSettings(), (text) => {
    writes.push(text);
    wake?.();
  }, batchMs);
  const nextWrite = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  return { printer, writes, nextWrite };
}

describe('HumanPrinter batches (output to a pipe)', () => {
  it('every batch is written, each once, in order', async () => {
    const { printer, writes, nextWrite } = batched(5);
    for (let batch = 1; batch <= 3; batch++) {
      const written = nextWrite();
      printer.print(`batch ${batch} a`);
      printer.print(`batch ${batch} b`);
      await written;
    }
    expect(writes).toEqual(['batch 1 a\nbatch 1 b\n', 'batch 2 a\nbatch 2 b\n', 'batch 3 a\nbatch 3 b\n']);
  });

  it('a batch flushed before its timer is not written again, and the next one still is', async () => {
    const { printer, writes, nextWrite } = batched(5);
    printer.print('first');
    printer.flush();
    expect(writes).toEqual(['first\n']);
    const written = nextWrite();
    printer.print('second');
    await written;
    expect(writes).toEqual(['first\n', 'second\n']);
    printer.close();
  });
});
