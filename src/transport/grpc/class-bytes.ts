/**
 * Class reads answered from encoded bytes. A class view's `ClassObject` is encoded once and kept
 * with the resolved class the service returned (a WeakMap keyed by that object): the class
 * loader's cache (service/class-loader.ts) hands out the same object until a write — here or, on
 * a shared store, anywhere — drops it, so a cache hit in the service is a hit for the bytes, and
 * the service's invalidation is the only one. The bytes are exactly ts-proto's encoding of
 * `classViewToProto(view)` (codec.ts), written straight from the view on a miss
 * (class-members-bytes.ts, no proto objects); a response is assembled from its fields' bytes
 * (protobuf messages concatenate). test/e2e/encoded-reads.test.ts
 * compares what clients receive with ts-proto's encoding, byte for byte.
 */
import { GetClassResponse } from '../../../generated/wbem/v1/services';
import type { Derivation, ResolvedClass } from '../../domain/class-model';
import {
  derivationFirst,
  derivationNames,
  extendsDerivation,
  sameDerivation,
} from '../../domain/resolve-class';
import type { ClassView, SystemPropertiesView } from '../../service/views';
import { writeClassMembers, writeString } from './class-members-bytes';
import { WireWriter } from './wire-writer';

/** A class view's encoded ClassObject, and what it was encoded from. */
interface EncodedClass {
  /** The system properties encoded: a later view of the same class must carry the same. */
  readonly system: SystemPropertiesView;
  readonly bytes: Buffer;
  /** The __DERIVATION entries within `bytes` (field 5 of SystemProperties, as encoded). */
  readonly derivation: Buffer;
  /** The last GetClassResponse without MOF made from it (holding `bytes`), and its revision. */
  readonly response?: { readonly revision: bigint; readonly bytes: Buffer };
  /** What a child reads of it (parentEntry), made once for a kept class: its bytes live anyway. */
  asParent?: ParentEntry;
}

/**
 * What a child's encoding reads of its parent's (encodeDerivation): the parent's name, its
 * derivation names and their encoded bytes. Kept per level of an enumeration apart from the
 * parent's whole bytes, which a wide level would otherwise keep whole (100,000 root classes:
 * the whole answer, ≈ 230 MB, until the call ends).
 */
interface ParentEntry {
  readonly system: { readonly className: string; readonly derivation: Derivation };
  readonly derivation: Uint8Array;
}

/**
 * Keyed by the view's class: the resolved class, or the local view the service keeps for it
 * (service/classes.ts). Dropped with it, so a write leaves nothing stale here to expire.
 */
const encodedClasses = new WeakMap<ResolvedClass, EncodedClass>();

/** Each page's messages (ClassObjectEncoder.keepPage), dropped with the page. */
const encodedPages = new WeakMap<readonly ClassView[], readonly Buffer[]>();

const SYSTEM_FIELD = 6;
const DERIVATION_FIELD = 5;
const OBJECT_FIELD = 1;
const LENGTH_DELIMITED = 2;
const tagOf = (field: number): number => (field << 3) | LENGTH_DELIMITED;
/** SystemProperties' two int32 fields (1 and 10), varints. */
const GENUS_TAG = 1 << 3;
const PROPERTY_COUNT_TAG = 10 << 3;

/**
 * One writer for every ClassObject (each encoding is synchronous), written straight from the view
 * (class-members-bytes.ts): it keeps its buffer from message to message, where a new writer per
 * message grew by doubling into fresh arrays (~10% of a cold 100,000-class enumeration's CPU,
 * docs/performance.md), and building ts-proto's objects to encode them cost a fifth.
 */
const writer = new WireWriter();

/** A length-delimited field's tag and length, as ts-proto writes them before the bytes. */
function fieldHeader(field: number, length: number): Uint8Array {
  return writer.uint32(tagOf(field)).uint32(length).finish();
}

/** Whether `b` encodes as `a` did (the class's own fields come from the same resolved object). */
function sameSystem(a: SystemPropertiesView, b: SystemPropertiesView): boolean {
  if (a === b) return true; // the service hands out one view per class (service/classes.ts)
  return (
    a.path === b.path &&
    a.namespace === b.namespace &&
    a.server === b.server &&
    a.relpath === b.relpath &&
    a.genus === b.genus &&
    a.className === b.className &&
    a.superclass === b.superclass &&
    a.dynasty === b.dynasty &&
    a.propertyCount === b.propertyCount &&
    sameDerivation(a.derivation, b.derivation)
  );
}

/**
 * The encoded __DERIVATION entries, in parts to be copied once into the class's bytes. A deep
 * chain's answer carries O(n²) names; when the parent was encoded in the same enumeration, a
 * class's entries are its parent's name and the parent's entries (bytes, not names encoded again).
 */
function writeDerivation(
  w: WireWriter,
  derivation: Derivation,
  parent: ParentEntry | undefined,
): void {
  const first = derivationFirst(derivation);
  if (
    parent !== undefined &&
    first !== undefined &&
    extendsDerivation(derivation, parent.system.className, parent.system.derivation)
  ) {
    w.uint32(tagOf(DERIVATION_FIELD)).string(first).raw(parent.derivation);
    return;
  }
  for (const name of derivationNames(derivation)) w.uint32(tagOf(DERIVATION_FIELD)).string(name);
}

/**
 * The class's ClassObject in one pass: its members (class-members-bytes.ts), then its system
 * properties, ts-proto's fields in order, each left out at its default: those before
 * __DERIVATION, its entries, those after.
 */
function encodeClass(view: ClassView, parent: ParentEntry | undefined): EncodedClass {
  const w = writer;
  writeClassMembers(w, view.class);
  const s = view.system;
  const at = w.uint32(tagOf(SYSTEM_FIELD)).begin();
  w.uint32(GENUS_TAG).int32(s.genus); // 1 or 2, never the default 0
  writeString(w, 2, s.className);
  writeString(w, 3, s.superclass);
  writeString(w, 4, s.dynasty);
  const derivationAt = w.length;
  writeDerivation(w, s.derivation, parent);
  const derivationLength = w.length - derivationAt;
  writeString(w, 6, s.server);
  writeString(w, 7, s.namespace);
  writeString(w, 8, s.path);
  writeString(w, 9, s.relpath);
  if (s.propertyCount !== 0) w.uint32(PROPERTY_COUNT_TAG).int32(s.propertyCount);
  const afterLength = w.length - derivationAt - derivationLength;
  const bytes = w.end(at).finish();
  const start = bytes.length - afterLength - derivationLength;
  return { system: s, bytes, derivation: bytes.subarray(start, start + derivationLength) };
}

/** The view's encoded ClassObject, from the cache when this class was encoded before. */
function encodedClass(view: ClassView, parent?: ParentEntry): EncodedClass {
  const cached = view.transient === true ? undefined : encodedClasses.get(view.class);
  if (cached !== undefined && sameSystem(cached.system, view.system)) return cached;
  let encoded: EncodedClass;
  try {
    encoded = encodeClass(view, parent);
  } catch (error) {
    // What was written before the throw must not become the start of the next message.
    writer.reset();
    throw error;
  }
  // A transient view's class is read once (a scan): an entry would only keep it alive longer.
  if (view.transient !== true) encodedClasses.set(view.class, encoded);
  return encoded;
}

/**
 * What a child needs of `encoded` as its parent, or undefined when that saves nothing (a root
 * class: its children's derivation is one name). A short derivation is copied out, so the level
 * does not keep the class's bytes (nor the pool slab they share); a long one (a deep chain's,
 * most of the bytes), or one of a `kept` class (its bytes are cached anyway), is a view of them.
 */
function parentEntry(encoded: EncodedClass, kept: boolean): ParentEntry | undefined {
  const derivation = encoded.derivation;
  if (derivation.length === 0) return undefined;
  const short = !kept && derivation.length * 4 < encoded.bytes.length;
  const { className, derivation: names } = encoded.system;
  return {
    system: { className, derivation: names },
    derivation: short ? Buffer.from(derivation) : derivation,
  };
}

/**
 * Encodes the classes of one enumeration: a class whose parent came earlier in it (breadth-first
 * order) gets its __DERIVATION entries from the parent's bytes.
 */
export class ClassObjectEncoder {
  /**
   * The classes encoded so far that a child may read (parentEntry), by depth (the length of their
   * derivation). An enumeration is breadth-first, so a class's parent is one level up: two levels
   * are kept, not the whole answer.
   */
  readonly #levels = new Map<number, Map<string, ParentEntry>>();

  /**
   * The messages made for `page` when it was sent before: a page the service replays (a kept
   * answer, service/enumeration-cache.ts, hands out the same arrays) costs one lookup, not one
   * per class.
   */
  keptPage(page: readonly ClassView[]): readonly Buffer[] | undefined {
    return encodedPages.get(page);
  }

  /** Keeps `page`'s messages with it (dropped with it); not a scan's page (transient views). */
  keepPage(page: readonly ClassView[], messages: readonly Buffer[]): void {
    if (messages.length === page.length && !page.some((view) => view.transient === true))
      encodedPages.set(page, messages);
  }

  encode(view: ClassView): Buffer {
    const depth = view.system.derivation.length;
    const parentName = derivationFirst(view.system.derivation);
    const parent =
      parentName === undefined ? undefined : this.#levels.get(depth - 1)?.get(parentName);
    const encoded = encodedClass(view, parent);
    let level = this.#levels.get(depth);
    if (level === undefined) {
      this.#levels.set(depth, (level = new Map<string, ParentEntry>()));
      this.#levels.delete(depth - 2);
    }
    // A kept class's entry is made once: a warm enumeration copies nothing for it.
    const entry =
      view.transient === true
        ? parentEntry(encoded, false)
        : (encoded.asParent ??= parentEntry(encoded, true));
    if (entry !== undefined) level.set(view.system.className, entry);
    return encoded.bytes;
  }
}

/** A GetClassResponse, encoded: the object's bytes, then `mof` and `revision` as ts-proto writes them. */
export function getClassResponseBytes(view: ClassView, mof: string, revision: bigint): Buffer {
  const encoded = encodedClass(view);
  const reusable = mof === '' ? encoded.response : undefined;
  if (reusable !== undefined && reusable.revision === revision) return reusable.bytes;
  const header = fieldHeader(OBJECT_FIELD, encoded.bytes.length);
  const bytes = Buffer.concat([
    header,
    encoded.bytes,
    GetClassResponse.encode({ object: undefined, mof, revision }).finish(),
  ]);
  if (mof === '') {
    // The class's bytes are kept once: from now on as the response's part.
    const object = bytes.subarray(header.length, header.length + encoded.bytes.length);
    const derivationAt = encoded.derivation.byteOffset - encoded.bytes.byteOffset;
    encodedClasses.set(view.class, {
      system: encoded.system,
      bytes: object,
      derivation: object.subarray(derivationAt, derivationAt + encoded.derivation.length),
      response: { revision, bytes },
    });
  }
  return bytes;
}
