/**
 * The object sink of PutClassAsync and CompileMof (docs/api.md, "The object sink"): progress
 * events, then exactly one SetStatus. `events()` yields the progress; the final SetStatus is the
 * call's result: `result()` resolves with it on success and rejects with a WbemError carrying it
 * on failure, and a `for await` over `events()` throws that same error where the loop ends, so the
 * final status is never lost, whichever of the two a caller reads.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import type {
  ChangeReport,
  ObjectSinkEvent,
  Progress,
  SetStatus,
} from '../../generated/wbem/v1/services';
import { type WbemStatus, wbemStatusToJSON } from '../../generated/wbem/v1/status';
import {
  errorFromSetStatus,
  errorFromStatus,
  WbemError,
  type WbemStatusName,
  type WbemTransportError,
} from './errors';
import { StreamReader, type StreamEnd } from './streams';

/** SetStatus(WBEM_STATUS_PROGRESS): `current` of `total` stages done, and what the stage was. */
export type SinkProgress = Progress;

/** A successful final SetStatus. */
export interface SinkResult {
  /** WBEM_S_NO_ERROR (or another success code). */
  readonly status: WbemStatusName;
  /** The written class's path, `\\SERVER\root\cimv2:ClassName` (SetStatus `param`). */
  readonly path: string;
  /** The store revision of the write (0 for validate_only). */
  readonly revision: bigint;
  /** With validate_only: what the change would touch. */
  readonly report: ChangeReport | undefined;
  /** The whole SetStatus as sent. */
  readonly setStatus: SetStatus;
}

const isSuccess = (hresult: WbemStatus): boolean => Number(hresult) >= 0;

/** One sink call. Read `events()` (or not), then `result()`; or `cancel()` it. */
export class SinkCall {
  private readonly reader: StreamReader<ObjectSinkEvent>;
  private finalStatus: SetStatus | undefined;
  private readonly outcome: Promise<SinkResult>;

  constructor(
    call: ClientReadableStream<ObjectSinkEvent>,
    private readonly address: string,
  ) {
    this.reader = new StreamReader(call, (event) => {
      if (event.event?.$case === 'status') this.finalStatus = event.event.status;
    });
    this.outcome = this.reader.end.then((end) => this.settle(end));
    // A caller that only iterates events() still sees the error: no unhandled rejection here.
    this.outcome.catch(() => undefined);
  }

  /** The progress events, in order. Ends when the sink ends; throws its error if it failed. */
  async *events(): AsyncGenerator<SinkProgress, SinkResult, undefined> {
    try {
      for (;;) {
        const event = await this.reader.next();
        if (event === undefined) break;
        if (event.event?.$case === 'progress') yield event.event.progress;
      }
    } finally {
      // Leaving the loop early (break, return, a throw in its body) cancels the call.
      this.reader.cancel();
    }
    return this.outcome;
  }

  /** The final SetStatus: resolves on success, rejects with WbemError (or WbemTransportError). */
  async result(): Promise<SinkResult> {
    return this.outcome;
  }

  cancel(): void {
    this.reader.cancel();
  }

  /** `end` resolves once every message has arrived, so the SetStatus, if any, was observed. */
  private settle(end: StreamEnd): SinkResult {
    const setStatus = this.finalStatus;
    if (setStatus === undefined) throw failure(end, this.address);
    if (!isSuccess(setStatus.hresult))
      throw errorFromSetStatus(setStatus, end.status, end.operationId);
    return {
      status: wbemStatusToJSON(setStatus.hresult) as WbemStatusName,
      path: setStatus.param,
      revision: setStatus.revision,
      report: setStatus.report,
      setStatus,
    };
  }
}

/** The error of a stream that ended without a final SetStatus (refused at once, or cut). */
function failure(end: StreamEnd, address: string): WbemError | WbemTransportError {
  if (Number(end.status.code) === 0)
    return new WbemError({
      status: 'WBEM_E_FAILED',
      detail: 'the object sink ended without a final SetStatus',
      code: end.status.code,
    });
  return errorFromStatus(end.status, address, end.operationId);
}
