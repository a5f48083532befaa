import { performance } from 'node:perf_hooks';

/**
 * The most of the time the diagram may take to rebuild: after a rebuild that
 * took C ms the next one waits until C / DIAGRAM_SHARE ms after it began.
 * A class session's diagram (a few hundred steps, well under 1 ms) is not
 * held back; 5,000 steps of a flood (20–50 ms here) wait 1–2.5 s between
 * rebuilds instead of 500 ms, so the page costs the echo it watches ~2 %,
 * not 10–40 % (bench row 16).
 */
export const DIAGRAM_SHARE = 0.02;

/** The page's two snapshots, each as the JSON a frame carries (rebuilt from the session when called). */
export interface FrameSources {
  table(): string;
  diagram(): string;
}

/**
 * The table and diagram frames the viewers are sent. Each is rebuilt only
 * when it is stale (and the diagram only when its turn came, see
 * DIAGRAM_SHARE); both are encoded once into one Buffer that every viewer
 * is written, instead of a string each viewer's connection encodes again.
 * `clock` is in ms (performance.now; tests give their own).
 */
export class SnapshotFrames {
  private table = '';
  private diagram = '';
  private tableStale = true;
  private diagramStale = true;
  /** Clock time before which the diagram is not rebuilt. */
  private diagramDue = 0;
  private encoded: Buffer | undefined;

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

  /** Rebuild what is stale (the diagram when its turn came). True when the frames changed. */
  refresh(): boolean {
    let changed = false;
    if (this.tableStale) {
      this.tableStale = false;
      const frame = `event: table\ndata: ${this.sources.table()}\n\n`;
      changed = frame !== this.table;
      this.table = frame;
    }
    const began = this.diagramStale ? this.clock() : 0;
    if (this.diagramStale && began >= this.diagramDue) {
      this.diagramStale = false;
      const frame = `event: diagram\ndata: ${this.sources.diagram()}\n\n`;
      this.diagramDue = began + (this.clock() - began) / DIAGRAM_SHARE;
      if (frame !== this.diagram) changed = true;
      this.diagram = frame;
    }
    if (changed) this.encoded = undefined;
    return changed;
  }

  /** The frames as last refreshed, encoded once (the same Buffer until they change). */
  frames(): Buffer {
    this.encoded ??= Buffer.from(this.table + this.diagram);
    return this.encoded;
  }
}
