/**
 * A Map that forgets its oldest entry once it holds `limit` (insertion order; reads cost nothing):
 * the class loader's per-namespace caches (class-loader.ts).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.limit && !this.has(key)) {
      const oldest = this.keys().next();
      if (oldest.done !== true) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
