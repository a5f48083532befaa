/**
 * The hook faults (`.fault`, toxiproxy's "toxics") plug into: each direction
 * of a relay link (src/endpoints/relay-link.ts, `DirectionPipe`) passes its
 * bytes through a chain of {@link FaultStage}s, source socket → stages[0] →
 * … → the sink that writes to the receiving socket and emits the `relay`
 * event. A stage is made with the next {@link FaultSink} of the chain and
 * calls it for what it lets through; with no stage, the path is direct.
 */

/** Where a fault passes what it lets through: the next stage, or the receiving socket. */
export interface FaultSink {
  /** Bytes on toward the receiver; `fault` = the name(s) of the faults that changed them. */
  data(chunk: Buffer, fault?: string): void;
  /** Pass the FIN on (after every byte handed on before it). */
  end(): void;
  /** RST both sockets of the link; `fault` names the fault that did it. */
  reset(fault: string): void;
  /** Close the link: FIN both ways; `fault` names the fault that did it. */
  close(fault: string): void;
}

/** A live fault on one direction of one link (toxiproxy's toxic stub). */
export interface FaultStage extends FaultSink {
  readonly name: string;
  /** Bytes held inside (they count for backpressure and `.ls`). */
  held(): number;
  /**
   * Set by whoever chains the stage: called after the stage handed on bytes
   * it held, so the direction rechecks backpressure (the bytes may never
   * reach the sink, e.g. bandwidth then drop, and the sink's check with them).
   */
  onRelease?: () => void;
  /** The fault was removed: hand held bytes on in order, stop timers. */
  remove(): void;
  /** The link is gone: cancel timers, drop held bytes. */
  dispose(): void;
}

/** A fault's parameters once parsed: positionals by their name, options by theirs (numbers: ms, bytes, KB/s). */
export type FaultParams = Readonly<Record<string, number>>;

/** One parameter of a fault kind: a positional (`latency MS`) or an option (`--jitter MS`). */
export interface FaultParam {
  /** The word: `ms` for the positional of latency, `jitter` for `--jitter`. */
  name: string;
  /** `duration`: ms, or `5s`/`2m`; `int`: a whole number (bytes, KB/s). */
  type: 'duration' | 'int';
  /** Positional (required, in order) or `--name` option. */
  positional?: boolean;
  /** Value when the option is not given. */
  default?: number;
  /** Smallest accepted value (default 0). */
  min?: number;
  /** Placeholder in the usage line (`MS`, `BYTES`, `KBPS`, `N`). */
  value: string;
  help: string;
}

/**
 * One kind of fault (toxiproxy's toxic type), registered by name in the
 * table of `faults/index.ts`. The relay link knows none by name: it only
 * chains the stages that `make` returns.
 */
export interface FaultKind {
  /** The word after `.fault pN`: `latency`, `slow-close`. */
  readonly name: string;
  /** One line for `.help fault`. */
  readonly summary: string;
  /** Where socklab differs from toxiproxy on purpose (said in `.help fault`). */
  readonly differs?: string;
  readonly params: readonly FaultParam[];
  /** What is wrong beyond each value's range (a required option missing), in words; undefined when nothing is. */
  problem?(p: FaultParams): string | undefined;
  /** `200 ms ± 50 ms` — the parameters as `.fault pN` lists them. */
  describe(p: FaultParams): string;
  /** A live stage on one direction of one link, passing what it lets through to `next`. */
  make(name: string, p: FaultParams, next: FaultSink): FaultStage;
}
