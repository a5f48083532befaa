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
  /** The fault was removed: hand held bytes on in order, stop timers. */
  remove(): void;
  /** The link is gone: cancel timers, drop held bytes. */
  dispose(): void;
}
