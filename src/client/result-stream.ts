/**
 * A server stream of results (EnumClasses, EnumNamespaces, EnumInstances, WatchClassEvents) as
 * an async iterable: every message, then, if the call failed, its typed error where the loop
 * ends. A stream this client cancelled ends quietly.
 */
import type { ClientReadableStream, Metadata } from '@grpc/grpc-js';
import { errorFromStatus } from './errors';
import { StreamReader } from './streams';

export class ResultStream<T> implements AsyncIterable<T> {
  private readonly reader: StreamReader<T>;
  private readonly failure: Promise<Error | undefined>;

  constructor(
    call: ClientReadableStream<T>,
    address: string,
    onHeaders?: (headers: Metadata) => void,
  ) {
    if (onHeaders !== undefined) call.on('metadata', onHeaders);
    this.reader = new StreamReader(call);
    this.failure = this.reader.end.then((end) =>
      Number(end.status.code) === 0 || end.cancelledByClient
        ? undefined
        : errorFromStatus(end.status, address, end.operationId),
    );
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        const message = await this.reader.next();
        if (message === undefined) break;
        yield message;
      }
    } finally {
      this.reader.cancel();
    }
    const error = await this.failure;
    if (error !== undefined) throw error;
  }

  /** Every message, in an array (for finite streams). */
  async toArray(): Promise<T[]> {
    const all: T[] = [];
    for await (const message of this) all.push(message);
    return all;
  }

  /** Ends the call; a loop over it ends without an error. */
  cancel(): void {
    this.reader.cancel();
  }
}
