import { performance } from 'node:perf_hooks';

/**
 * The most of the time the diagram may take to rebuild: after a rebuild that
 * took C ms over a history of N steps, the next one, over M steps, waits
 * until C × M / N / DIAGRAM_SHARE ms after the last began. A class session's
 * diagram (a few hundred steps, well under 1 ms) is not held back; 5,000
 * steps of a flood (6–50 ms here, more before the code is compiled) wait
 * 0.6–5 s between rebuilds instead of 500 ms, so the page costs the echo it
 * watches ~1 %, not 10–40 % (bench row 16).
 */
export const DIAGRAM_SHARE = 0.01;
/**
 * The longest the diagram waits for its next rebuild, ms: one rebuild slowed
 * by the GC or a loaded machine must not freeze it for minutes.
 */
export const DIAGRAM_MAX_WAIT = 5000;
/**
 * The smallest size a rebuild's cost is spread over (see FrameSources.diagramSize):
 * a rebuild of an almost empty history is mostly fixed cost, and a class
 * session's next rebuild of a few hundred steps must not wait for seconds.
 */
export const DIAGRAM_SIZE_FLOOR = 100;

/** The page's two snapshots, each as the JSON a frame carries (rebuilt from the session when called). */
export interface FrameSources {
  table(): string;
  diagram(): string;
  /**
   * How much the diagram has to draw now (the history's kept steps): a
   * rebuild's cost is taken to grow with it, so one cheap rebuild of a short
   * history does not let a rebuild of 5,000 steps follow at once. Without it
   * every rebuild is taken to cost what the last one did.
   */
  diagramSize?(): number;
}

/** One snapshot's frame as viewers are sent it: numbered, so a viewer sends only a frame it has not sent. */
export class SnapshotFrame {
  private frame = '';
  private encoded: Buffer | undefined;
  /** Goes up by one each time the frame changes; 0: none yet. */
  version = 0;

  /** Take `frame` as the current one; false when it is what was there. */
  set(frame: string): boolean {
    if (frame === this.frame) return false;
    this.frame = frame;
    this.encoded = undefined;
    this.version++;
    return true;
  }

  /** The frame encoded once: the same Buffer for every viewer until it changes. */
  get bytes(): Buffer {
    this.encoded ??= Buffer.from(this.frame);
    return this.encoded;
  }
}

/**
 * The table and diagram frames the viewers are sent. Each is rebuilt only
 * when it is stale (and the diagram only when its turn came, see
 * DIAGRAM_SHARE) and sent again only when it changed: a table whose ages
 * moved does not send a diagram of 30 KB that did not. Each is encoded once
 * into a Buffer that every viewer is written, instead of a string each
 * viewer's connection encodes again. `clock` is in ms (performance.now;
 * tests give their own).
 */
export class SnapshotFrames {
  readonly table = new SnapshotFrame();
  readonly diagram = new SnapshotFrame();
  private tableStale = true;
  private diagramStale = true;
  /** When the last rebuild began (clock ms); -Infinity: none yet. */
  private diagramBegan = -Infinity;
  /** What the last rebuild cost per unit of size, ms. */
  private diagramCost = 0;

  constructor(
    private readonly sources: FrameSources,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Something happened: the table and the diagram may differ. */
  stale(): void {
    this.tableStale = true;
    this.diagramStale = true;
  }

  /** Only time passed: the table's ages may differ (the diagram has none). */
  staleTable(): void {
    this.tableStale = true;
  }

  /** The diagram is stale and waits for its turn: call `refresh` again later. */
  get diagramWaiting(): boolean {
    return this.diagramStale;
  }

  /** Rebuild what is stale (the diagram when its turn came). True when a frame changed. */
  refresh(): boolean {
    let changed = false;
    if (this.tableStale) {
      this.tableStale = false;
      changed = this.table.set(`event: table\ndata: ${this.sources.table()}\n\n`);
    }
    if (!this.diagramStale) return changed;
    const began = this.clock();
    // This rebuild's cost, foreseen from the last one's per unit of size: its turn comes when
    // rebuilding has taken DIAGRAM_SHARE of the time since the last one began.
    const size = Math.max(DIAGRAM_SIZE_FLOOR, this.sources.diagramSize?.() ?? DIAGRAM_SIZE_FLOOR);
    if (began < this.diagramBegan + Math.min(DIAGRAM_MAX_WAIT, (this.diagramCost * size) / DIAGRAM_SHARE)) return changed;
    this.diagramStale = false;
    const frame = `event: diagram\ndata: ${this.sources.diagram()}\n\n`;
    this.diagramBegan = began;
    this.diagramCost = (this.clock() - began) / size;
    changed = this.diagram.set(frame) || changed;
    return changed;
  }
}
