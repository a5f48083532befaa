/**
 * The page's snapshot frames: the diagram's rebuilding held to DIAGRAM_SHARE
 * of the time (a clock of the test's own, no waiting), each frame sent again
 * only when it changed, and one encoded Buffer shared by every viewer.
 */
import { describe, expect, it } from 'vitest';
import { DIAGRAM_MAX_WAIT, DIAGRAM_SHARE, DIAGRAM_SIZE_FLOOR, SnapshotFrame, SnapshotFrames } from '../../src/serve/frames.js';
import { Ring } from '../../src/serve/ring.js';

/**
 * Frames whose diagram takes `diagramMs` of the test's clock to build; counts the builds.
 * Given a function instead, the diagram has a size (`setSize`) and a build takes `diagramMs(size)`.
 */
function rig(diagramMs: number | ((size: number) => number)) {
  let now = 1000;
  let tables = 0;
  let diagrams = 0;
  let size = 0;
  const sized = typeof diagramMs === 'function';
  const frames = new SnapshotFrames(
    {
      table: () => JSON.stringify({ n: ++tables }),
      diagram: () => {
        now += sized ? diagramMs(size) : diagramMs;
        return JSON.stringify({ n: ++diagrams });
      },
      ...(sized ? { diagramSize: () => size } : {}),
    },
    () => now,
  );
  return {
    frames,
    advance: (ms: number) => void (now += ms),
    setSize: (n: number) => void (size = n),
    builds: () => ({ tables, diagrams }),
  };
}

describe('SnapshotFrames', () => {
  it('rebuilds a cheap diagram at every refresh after a change, and nothing when nothing changed', () => {
    const r = rig(0);
    expect(r.frames.refresh()).toBe(true);
    expect(r.builds()).toEqual({ tables: 1, diagrams: 1 });
    expect(r.frames.refresh()).toBe(false);
    r.frames.stale();
    r.advance(500);
    expect(r.frames.refresh()).toBe(true);
    expect(r.builds()).toEqual({ tables: 2, diagrams: 2 });
    expect(r.frames.diagramWaiting).toBe(false);
  });

  it('holds a costly diagram back until its rebuilding is DIAGRAM_SHARE of the time; the table goes on', () => {
    const r = rig(40);
    r.frames.refresh();
    const turn = 40 / DIAGRAM_SHARE;
    expect(turn).toBeLessThan(DIAGRAM_MAX_WAIT);
    r.frames.stale();
    r.advance(500);
    expect(r.frames.refresh()).toBe(true);
    expect(r.builds()).toEqual({ tables: 2, diagrams: 1 });
    expect(r.frames.diagramWaiting).toBe(true);
    // Its turn comes `turn` ms after the last rebuild began (the 40 ms it took count).
    r.advance(turn - 500 - 40 - 1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(1);
    r.advance(1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(2);
    expect(r.frames.diagramWaiting).toBe(false);
    expect(JSON.parse(r.frames.diagram.bytes.toString().split('data: ')[1] as string)).toEqual({ n: 2 });
  });

  it('waits at most DIAGRAM_MAX_WAIT after a rebuild that a stall made slow (1 s would otherwise mean 100 s)', () => {
    const r = rig(1000);
    r.frames.refresh();
    r.frames.stale();
    r.advance(DIAGRAM_MAX_WAIT - 1000 - 1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(1);
    r.advance(1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(2);
  });

  it('foresees a rebuild of a grown history: a cheap first rebuild does not let one of 5,000 steps follow at once', () => {
    // 0.01 ms a step: 200 steps take 2 ms, 5,000 steps 50 ms (a flood's history).
    const r = rig((size) => 0.01 * size);
    r.setSize(200);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(1);
    r.setSize(5000);
    r.frames.stale();
    // Without the size the turn would come 2 / DIAGRAM_SHARE = 200 ms after the first began; with it 50 / DIAGRAM_SHARE.
    const turn = (0.01 * 5000) / DIAGRAM_SHARE;
    r.advance(turn - 2 - 1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(1);
    expect(r.frames.diagramWaiting).toBe(true);
    r.advance(1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(2);
  });

  it('spreads a rebuild of a short history over DIAGRAM_SIZE_FLOOR steps: a class session after an empty start is not held back', () => {
    // 1 ms of fixed cost plus 0.001 ms a step: the first rebuild, of an empty history, is all fixed cost.
    const r = rig((size) => 1 + 0.001 * size);
    r.setSize(0);
    r.frames.refresh();
    r.setSize(300);
    r.frames.stale();
    // Foreseen: 1 ms / 100 steps × 300 = 3 ms, so its turn is 300 ms after the first began (not 1 ms × 300 / 0.01 = 30 s).
    const turn = ((1 / DIAGRAM_SIZE_FLOOR) * 300) / DIAGRAM_SHARE;
    expect(turn).toBeLessThan(DIAGRAM_MAX_WAIT);
    r.advance(turn - 1 - 1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(1);
    r.advance(1);
    r.frames.refresh();
    expect(r.builds().diagrams).toBe(2);
  });

  it('a table refresh alone leaves the diagram as it is (same version, same Buffer)', () => {
    const r = rig(0);
    r.frames.refresh();
    const diagram = r.frames.diagram.bytes;
    const version = r.frames.diagram.version;
    r.frames.staleTable();
    expect(r.frames.refresh()).toBe(true);
    expect(r.builds()).toEqual({ tables: 2, diagrams: 1 });
    expect(r.frames.diagram.version).toBe(version);
    expect(r.frames.diagram.bytes).toBe(diagram);
  });
});

describe('SnapshotFrame', () => {
  it('numbers each change, not a frame set again unchanged, and encodes it once for every reader', () => {
    const f = new SnapshotFrame();
    expect(f.version).toBe(0);
    expect(f.set('event: table\ndata: {"a":"é"}\n\n')).toBe(true);
    expect(f.set('event: table\ndata: {"a":"é"}\n\n')).toBe(false);
    expect(f.version).toBe(1);
    const bytes = f.bytes;
    expect(f.bytes).toBe(bytes);
    expect(bytes.toString('utf8')).toBe('event: table\ndata: {"a":"é"}\n\n');
    expect(f.set('event: table\ndata: {}\n\n')).toBe(true);
    expect(f.version).toBe(2);
    expect(f.bytes).not.toBe(bytes);
  });
});

describe('Ring#encoded', () => {
  it('gives viewers in step one Buffer for the same entries, and the right bytes for others', () => {
    const ring = new Ring();
    for (let i = 1; i <= 5; i++) ring.push(`id: t.${i}\nevent: log\ndata: "ü${i}"\n\n`);
    const a = ring.encoded(2, 5);
    expect(ring.encoded(2, 5)).toBe(a);
    expect(a.toString('utf8')).toBe([2, 3, 4].map((i) => ring.get(i)).join(''));
    const b = ring.encoded(1, 6);
    expect(b.toString('utf8')).toBe([1, 2, 3, 4, 5].map((i) => ring.get(i)).join(''));
    expect(ring.encoded(2, 5).toString('utf8')).toBe(a.toString('utf8'));
  });
});
