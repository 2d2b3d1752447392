/**
 * Whether a replica's etcd is there for its calls, as its health reports it (server.ts):
 * unavailable once etcd stops answering (a call, or the view's probe after its watch lost its
 * member), and available again only once etcd answers AND the view's watch is connected again.
 * Until the watch is back every read waits for a view that does not move and fails with
 * STORE_UNAVAILABLE after its timeout (etcd-view.ts, waitSeen): SERVING then would send a mesh's
 * traffic to a replica that cannot serve it. A watch that only moves to another member (one
 * member down) changes nothing while etcd answers.
 */
export class EtcdAvailability {
  #answering = true;
  #serving = true;
  #probe: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(available: boolean) => void>();

  constructor(
    private readonly watchConnected: () => boolean,
    /** A cheap read; it reports its own outcome through `answered`. */
    private readonly probe: () => Promise<unknown>,
    private readonly probeEveryMs: number,
  ) {}

  listen(listener: (available: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** etcd answered a call (true) or could not be reached (false). */
  answered(answering: boolean): void {
    this.#answering = answering;
    if (!answering) this.#scheduleProbe();
    this.update();
  }

  /** Tells the listeners if what they heard last changed: after `answered`, and when the watch connects. */
  update(): void {
    const serving = this.#answering && (this.#serving || this.watchConnected());
    if (serving === this.#serving) return;
    this.#serving = serving;
    for (const listener of this.#listeners) listener(serving);
  }

  stop(): void {
    clearTimeout(this.#probe);
    this.#probe = undefined;
  }

  /** While etcd is unreachable, a cheap read now and then tells when it is back. */
  #scheduleProbe(): void {
    if (this.#probe !== undefined) return;
    this.#probe = setTimeout(() => {
      this.#probe = undefined;
      if (this.#answering) return;
      this.probe().then(
        () => undefined,
        () => this.#scheduleProbe(),
      );
    }, this.probeEveryMs);
    this.#probe.unref();
  }
}
