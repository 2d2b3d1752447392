/**
 * IWbemObjectSink as a protocol-checking state machine (docs/style.md §2.4): progress events
 * (forwarded only with WBEM_FLAG_SEND_STATUS; current ≤ total, non-decreasing), then exactly one
 * final status. Neither the service's operations nor the transport can break the protocol:
 * a violation is a bug and throws. The service builds the sink itself, over the port the
 * transport hands it (the gRPC stream; a recorder in tests).
 */
import type { WbemError } from '../domain/wbem-status';
import type { ChangeReportView } from './views';

export type Outcome =
  | {
      readonly ok: true;
      readonly path: string;
      /** The store revision after the write (the written class's mod revision); 0 for validate_only. */
      readonly revision: bigint;
      /** validate_only: what the change would touch. */
      readonly report?: ChangeReportView;
    }
  | { readonly ok: false; readonly error: WbemError };

export type SinkEvent =
  | {
      readonly kind: 'progress';
      readonly current: number;
      readonly total: number;
      readonly message: string;
    }
  | { readonly kind: 'status'; readonly outcome: Outcome };

/** Where events go: the gRPC stream in production, an array in tests. */
export interface SinkPort {
  /** Resolves when another event may be sent (back-pressure). Never rejects. */
  send(event: SinkEvent): Promise<void>;
}

export class ObjectSink {
  #done = false;
  #lastCurrent = 0;
  #lastTotal = 0;

  constructor(
    private readonly port: SinkPort,
    /** WBEM_FLAG_SEND_STATUS: forward progress events. */
    readonly sendStatus: boolean,
  ) {}

  async progress(current: number, total: number, message: string): Promise<void> {
    if (this.#done) throw new Error('ObjectSink: progress after the final status');
    if (!Number.isInteger(current) || !Number.isInteger(total) || current < 0 || current > total) {
      throw new RangeError(`ObjectSink: progress ${current}/${total} is not a valid step`);
    }
    if (current < this.#lastCurrent || total < this.#lastTotal) {
      throw new RangeError(
        `ObjectSink: progress ${current}/${total} after ${this.#lastCurrent}/${this.#lastTotal}`,
      );
    }
    this.#lastCurrent = current;
    this.#lastTotal = total;
    if (this.sendStatus) await this.port.send({ kind: 'progress', current, total, message });
  }

  /** Sends the one final SetStatus and returns the outcome for the transport to close with. */
  async complete(outcome: Outcome): Promise<Outcome> {
    if (this.#done) throw new Error('ObjectSink: second final status');
    this.#done = true;
    await this.port.send({ kind: 'status', outcome });
    return outcome;
  }
}

const NOTHING_TO_SEND = Promise.resolve();

/**
 * Progress as named stages (PutClassAsync's, D8 and D49): each event is numbered by the stages
 * finished so far, out of those finished plus those still planned. A stage learnt on the way (a
 * group of subclasses checked) adds to both. Finishing a stage only records it; `report` sends
 * what was finished since the last report, so the operation chooses when events go out (after
 * its lock is released).
 */
export class StagedProgress {
  readonly #sink: ObjectSink;
  /** Planned stages not finished yet, in order. */
  readonly #planned: string[];
  readonly #finished: string[] = [];
  #reported = 0;

  constructor(sink: ObjectSink, planned: readonly string[]) {
    this.#sink = sink;
    this.#planned = [...planned];
  }

  /** A planned stage (the next one: planned stages finish in order) or one learnt on the way. */
  finish(stage: string): void {
    const at = this.#planned.indexOf(stage);
    // A decision made again after a conflict (optimistic.ts) finishes its stages again: once is enough.
    if (at < 0 && this.#finished.includes(stage)) return;
    if (at > 0) throw new Error(`StagedProgress: "${stage}" before "${this.#planned[0]}"`);
    if (at === 0) this.#planned.shift();
    this.#finished.push(stage);
  }

  /** Sends one progress event per stage finished since the last report. */
  report(): Promise<void> {
    if (!this.#sink.sendStatus) {
      // Nothing to send: no promise of its own either (three reports a PutClass, W1).
      this.#reported = this.#finished.length;
      return NOTHING_TO_SEND;
    }
    return this.#send();
  }

  async #send(): Promise<void> {
    const total = this.#finished.length + this.#planned.length;
    for (; this.#reported < this.#finished.length; this.#reported++) {
      const stage = this.#finished[this.#reported] as string;
      await this.#sink.progress(this.#reported + 1, total, stage);
    }
  }
}
