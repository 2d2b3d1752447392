/**
 * Retention of the etcd store's event log: log records below the first retained revision are
 * never returned (the base class clamps readEvents); this deletes them from etcd, in the
 * background, best effort (a failure waits for the next round), at most once per `every` revisions
 * of the window's start. Several replicas may trim at once: deleting a deleted key is harmless.
 */
import type { Etcd3 } from 'etcd3';
import { prefixEnd } from './etcd-records';

/** Keys deleted per Txn: within etcd's default --max-txn-ops (128). */
const DELETES_PER_TXN = 100;
/** Keys listed per round. */
const KEYS_PER_ROUND = 1000;

export class EventTrimmer {
  #trimmedBelow = 0n;
  #running = false;

  constructor(
    private readonly eventsPrefix: string,
    private readonly every: bigint,
    private readonly timeoutMs: number,
  ) {}

  /** The window now starts at `firstRetained`: trims when it moved far enough since the last round. */
  after(client: Etcd3 | undefined, firstRetained: bigint): void {
    if (client === undefined || this.#running) return;
    if (firstRetained - this.#trimmedBelow < this.every) return;
    this.#running = true;
    this.#trim(client, firstRetained)
      .then(() => (this.#trimmedBelow = firstRetained))
      .catch(() => undefined)
      .finally(() => (this.#running = false));
  }

  async #trim(client: Etcd3, below: bigint): Promise<void> {
    const start = Buffer.from(this.eventsPrefix, 'utf8');
    const deadline = (): Date => new Date(Date.now() + this.timeoutMs);
    for (;;) {
      const page = await client.kv.range(
        {
          key: start,
          range_end: prefixEnd(start),
          keys_only: true,
          max_mod_revision: String(below - 1n),
          limit: KEYS_PER_ROUND,
        },
        { deadline: deadline() },
      );
      for (let i = 0; i < page.kvs.length; i += DELETES_PER_TXN) {
        const success = page.kvs
          .slice(i, i + DELETES_PER_TXN)
          .map((kv) => ({ request_delete_range: { key: kv.key } }));
        await client.kv.txn({ success }, { deadline: deadline() });
      }
      if (!page.more) return;
    }
  }
}
