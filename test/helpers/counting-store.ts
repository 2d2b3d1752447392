import type { ClassDefinition } from '../../src/domain/class-model';
import type { ClassKey, NamespaceKey } from '../../src/domain/names';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';

/** A memory store that counts the class reads reaching it (what a cache saved, or did not). */
export class CountingStore extends MemoryClassStore {
  reads = 0;
  override getClass(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<ClassDefinition | undefined> {
    this.reads++;
    return super.getClass(namespace, className);
  }
}
