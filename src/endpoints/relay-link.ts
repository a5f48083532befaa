import type { FaultSink, FaultStage } from '../behaviours/faults/types.js';
import type { Registry } from '../session/manager.js';
import type { RelayEndpoint, RelaySocketEndpoint } from './relay-types.js';
import type { RelayEvent } from '../session/events.js';
import { rawSocket } from './tls.js';

/**
 * Bytes one direction of a link may hold (queued in the receiving socket plus
 * held inside faults) before the sending side stops reading: memory per link
 * stays bounded whatever the peers do (a never-reading client included).
 */
export const RELAY_HIGH_WATER = 256 * 1024;

/** `up`: client → target; `down`: target → client. */
export type RelayDirection = 'up' | 'down';

/** A FaultSink whose destination can change: how a stage is appended or taken out of a running chain. */
class Forward implements FaultSink {
  constructor(public to: FaultSink) {}
  data(chunk: Buffer, fault?: string): void {
    this.to.data(chunk, fault);
  }
  end(): void {
    this.to.end();
  }
  reset(fault: string): void {
    this.to.reset(fault);
  }
  close(fault: string): void {
    this.to.close(fault);
  }
}

/**
 * One direction of a link: source socket → stages[0] → … → the sink, which
 * writes to the receiving socket and emits the `relay` event. With no stage
 * the source hands each chunk to the sink in the same turn, uncopied.
 * Backpressure: `receiver.writableLength + Σ held()` above RELAY_HIGH_WATER
 * pauses the source; it is checked again on each sink write, each source
 * chunk and on the receiver's 'drain'.
 */
export class DirectionPipe {
  /** The faults on this direction, in the order bytes pass them. */
  readonly stages: FaultStage[] = [];
  /** The forwarders stages[i] was made with (its `next`). */
  private readonly nexts: Forward[] = [];
  private head: FaultSink;
  private readonly sink: FaultSink;
  /** True while this pipe's backpressure holds the source. */
  blocked = false;
  /** True once the FIN was passed on from the source. */
  ended = false;

  constructor(
    reg: Registry,
    readonly link: RelayLink,
    readonly dir: RelayDirection,
    readonly source: RelaySocketEndpoint,
    readonly receiver: RelaySocketEndpoint,
  ) {
    const relay = link.relay;
    const from = source.id;
    const to = receiver.id;
    const socket = receiver.socket;
    const framed = relay.options.frame !== undefined;
    this.sink = {
      data: (chunk, fault) => {
        if (!socket.writable || socket.writableEnded) return;
        socket.write(chunk);
        receiver.bytesOut += chunk.length;
        const t = reg.now();
        // Per chunk on the data path: one plain object, optional fields set only when present.
        const ev: RelayEvent = { type: 'relay', t, id: relay.id, from, to, dir, data: chunk };
        if (fault !== undefined) ev.fault = fault;
        if (framed) ev.framed = true;
        reg.emit(ev);
        this.check();
      },
      end: () => {
        if (!socket.writableEnded && !socket.destroyed) socket.end();
      },
      reset: (fault) => link.reset(fault),
      close: (fault) => link.close(fault),
    };
    this.head = this.sink;
    socket.on('drain', () => this.check());
  }

  /** A chunk the source read. */
  push(chunk: Buffer): void {
    this.head.data(chunk);
    if (this.stages.length > 0) this.check();
  }

  /** The source's FIN. */
  end(): void {
    this.ended = true;
    this.head.end();
  }

  /** Bytes this direction holds: queued in the receiver plus held in faults. */
  pressure(): number {
    let n = this.receiver.socket.writableLength;
    for (const s of this.stages) n += s.held();
    return n;
  }

  /** Pause the source past the high-water mark, resume it below. */
  check(): void {
    const over = this.pressure() > RELAY_HIGH_WATER;
    if (over === this.blocked) return;
    this.blocked = over;
    if (over) this.source.socket.pause();
    else this.link.resumeIfFree(this.source);
  }

  /** Append a fault at the end of the chain (next to the sink); it applies to bytes read from now on. */
  add(make: (next: FaultSink) => FaultStage): FaultStage {
    const next = new Forward(this.sink);
    const stage = make(next);
    const last = this.nexts[this.nexts.length - 1];
    if (last === undefined) this.head = stage;
    else last.to = stage;
    this.stages.push(stage);
    this.nexts.push(next);
    return stage;
  }

  /** Take the fault named `name` out: what it holds goes on in order, and the chain closes over the gap. False when none has that name. */
  remove(name: string): boolean {
    const i = this.stages.findIndex((s) => s.name === name);
    if (i < 0) return false;
    const stage = this.stages[i]!;
    const after = this.nexts[i]!.to;
    if (i === 0) this.head = after;
    else this.nexts[i - 1]!.to = after;
    this.stages.splice(i, 1);
    this.nexts.splice(i, 1);
    stage.remove();
    this.check();
    return true;
  }

  /** The link is gone: every fault drops what it holds and stops its timers. */
  dispose(): void {
    for (const s of this.stages.splice(0)) s.dispose();
    this.nexts.length = 0;
    this.head = this.sink;
  }
}

/**
 * A client accepted by a relay and the connection opened for it to the
 * target: two sockets, two directions. Knows no fault by name.
 */
export class RelayLink {
  readonly up: DirectionPipe;
  readonly down: DirectionPipe;
  /** True once the target connected and both sides read. */
  open = false;

  constructor(
    private readonly reg: Registry,
    readonly relay: RelayEndpoint,
    readonly client: RelaySocketEndpoint,
    readonly target: RelaySocketEndpoint,
  ) {
    this.up = new DirectionPipe(reg, this, 'up', client, target);
    this.down = new DirectionPipe(reg, this, 'down', target, client);
  }

  /** The direction whose source is `ep`. */
  from(ep: RelaySocketEndpoint): DirectionPipe {
    return ep === this.client ? this.up : this.down;
  }

  /** The other socket of the link. */
  other(ep: RelaySocketEndpoint): RelaySocketEndpoint {
    return ep === this.client ? this.target : this.client;
  }

  /** Read from `ep` again unless the user paused it, output holds it, or its direction is full. */
  resumeIfFree(ep: RelaySocketEndpoint): void {
    if (!this.open || ep.userPaused || ep.outputHeld || this.from(ep).blocked || ep.socket.destroyed) return;
    ep.socket.resume();
  }

  /** RST both sockets (a fault, or a reset passed on); `why` goes into a note. */
  reset(why: string): void {
    this.note(`${why}: resetting ${this.client.id} and ${this.target.id}`);
    for (const ep of [this.client, this.target]) resetSocket(ep);
  }

  /** FIN both ways (a fault); `why` goes into a note. */
  close(why: string): void {
    // A fault on both directions closes twice (timeout removed, limit reached each way): one note.
    if ([this.client, this.target].every((ep) => ep.socket.destroyed || ep.socket.writableEnded)) return;
    this.note(`${why}: closing ${this.client.id} ⇄ ${this.target.id}`);
    for (const ep of [this.client, this.target]) {
      if (!ep.socket.destroyed && !ep.socket.writableEnded) ep.socket.end();
      // A socket whose reading is held would never read the peer's FIN.
      ep.userPaused = false;
      this.resumeIfFree(ep);
    }
  }

  /** Both directions' faults drop what they hold (the link is gone). */
  dispose(): void {
    this.up.dispose();
    this.down.dispose();
  }

  private note(message: string): void {
    this.reg.emit({ type: 'note', t: this.reg.now(), id: this.relay.id, message });
  }
}

/**
 * Abort a link socket with an RST (`resetAndDestroy`): what Node still queues
 * is discarded and said in its close event. A socket still connecting, or
 * whose FIN is being sent (libuv refuses a reset then), is destroyed plainly.
 */
export function resetSocket(ep: RelaySocketEndpoint): void {
  const s = ep.socket;
  if (s.destroyed) return;
  ep.discarded = s.writableLength;
  const finSending = (s as unknown as { _writableState: { finalCalled: boolean } })._writableState.finalCalled && !s.writableFinished;
  ep.state = 'destroyed';
  if (s.connecting || finSending) s.destroy();
  else {
    ep.reset = true;
    // A TLS socket has no fd of its own: the RST goes out on the TCP socket under it.
    const raw = rawSocket(s);
    if (raw !== s) {
      s.destroy();
      raw.resetAndDestroy();
    } else s.resetAndDestroy();
  }
}
