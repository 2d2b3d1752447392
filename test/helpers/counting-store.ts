import type { ClassDefinition } from '../../src/domain/class-model';
import type { ClassKey, NamespaceKey } from '../../src/domain/names';
import type { ClassPage, ReadHint } from '../../src/store/class-store';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';

/** A memory store that counts the class reads reaching it (what a cache saved, or did not). */
export class CountingStore extends MemoryClassStore {
  /** Classes read, one by one or in a page. */
  reads = 0;
  /** Calls that read classes: getClass, and getClasses (one a page, whatever its size). */
  calls = 0;
  /** The sizes of the pages read with getClasses. */
  readonly pages: number[] = [];

  override getClass(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<ClassDefinition | undefined> {
    this.reads++;
    this.calls++;
    return super.getClass(namespace, className);
  }

  override getClasses(
    namespace: NamespaceKey,
    classNames: readonly ClassKey[],
    hint?: ReadHint,
  ): Promise<ClassPage> {
    this.reads += classNames.length;
    this.calls++;
    this.pages.push(classNames.length);
    return super.getClasses(namespace, classNames, hint);
  }
}
