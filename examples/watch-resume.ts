/**
 * A WatchClassEvents client that sees every class event exactly once although its watch ends now
 * and then: the server closes each connection after `maxConnectionAgeMs` and ends the watches on
 * it with WBEM_E_TRANSPORT_FAILURE (docs/configuration.md, "Watches and the connection age"); a
 * restart or a network failure ends them with UNAVAILABLE. The client watches again from the
 * revision of the last event it received, which the server's event log replays from.
 *
 *   npm run -s build && node dist/examples/watch-resume.js 127.0.0.1:50051 root/cimv2
 *
 * prints one JSON line per event. In a program, call `watchWithResume`.
 */
import { credentials, Metadata, status as Code, type StatusObject } from '@grpc/grpc-js';
import { WbemServicesClient, type ClassEvent } from '../generated/wbem/v1/services';

export interface WatchTarget {
  readonly namespace: string;
  /** `TargetClass ISA` this class; empty = every class of the namespace. */
  readonly className: string;
  /** Start after this revision; absent = from now (the first watch's `wbem-revision` header). */
  readonly sinceRevision?: bigint;
}

export interface ResumingWatch {
  /** Resolves once stopped; rejects with the status of a watch that cannot resume. */
  readonly done: Promise<void>;
  stop(): void;
}

/**
 * Statuses after which a watch resumes from its last revision without losing an event: the
 * connection or the server went away, or the client fell behind the server's buffer. A watch
 * refused at once (no `wbem-operation-id` header) does not resume: it would be refused again
 * (WBEM_E_QUEUE_OVERFLOW at once means the log no longer holds the revision: re-read the classes).
 */
const RESUMABLE = new Set([
  'WBEM_E_TRANSPORT_FAILURE',
  'WBEM_E_SHUTTING_DOWN',
  'WBEM_E_QUEUE_OVERFLOW',
]);

function resumable(end: StatusObject, accepted: boolean): boolean {
  const [wbemStatus] = end.metadata.get('wbem-status');
  // No WBEM status at all: the connection broke before the server could say anything.
  if (wbemStatus === undefined) return end.code === Code.UNAVAILABLE;
  return accepted && RESUMABLE.has(String(wbemStatus));
}

export function watchWithResume(
  client: WbemServicesClient,
  target: WatchTarget,
  onEvent: (event: ClassEvent) => void,
  retryDelayMs = 200,
): ResumingWatch {
  let stopped = false;
  let cancel = (): void => undefined;
  let since = target.sinceRevision;
  const watchOnce = async (): Promise<{ end: StatusObject; accepted: boolean }> => {
    const call = client.watchClassEvents(
      { namespace: target.namespace, className: target.className, sinceRevision: since },
      new Metadata(),
    );
    cancel = () => call.cancel();
    let accepted = false;
    call.on('metadata', (headers: Metadata) => {
      accepted = headers.get('wbem-operation-id').length > 0;
      const [revision] = headers.get('wbem-revision');
      if (since === undefined && revision !== undefined) since = BigInt(String(revision));
    });
    const end = new Promise<StatusObject>((resolve) => call.on('status', resolve));
    try {
      // Every message is read before the status is looked at: grpc-js may report it first.
      for await (const event of call) {
        since = (event as ClassEvent).revision;
        onEvent(event as ClassEvent);
      }
    } catch {
      // The stream's error is its status, read below.
    }
    return { end: await end, accepted };
  };
  const done = (async () => {
    while (!stopped) {
      const { end, accepted } = await watchOnce();
      if (stopped) return;
      if (!resumable(end, accepted))
        throw Object.assign(new Error(`watch ended: ${Code[end.code]} ${end.details}`), { end });
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    }
  })();
  return {
    done,
    stop() {
      stopped = true;
      cancel();
    },
  };
}

if (require.main === module) {
  const [address = '127.0.0.1:50051', namespace = 'root/cimv2', className = ''] =
    process.argv.slice(2);
  const client = new WbemServicesClient(address, credentials.createInsecure());
  const watch = watchWithResume(client, { namespace, className }, (event) =>
    console.log(
      JSON.stringify({
        revision: event.revision.toString(),
        event: event.eventClass,
        class: event.targetClass?.className,
      }),
    ),
  );
  process.once('SIGINT', () => watch.stop());
  watch.done.then(
    () => client.close(),
    (error: unknown) => {
      console.error(String(error));
      client.close();
      process.exitCode = 1;
    },
  );
}
