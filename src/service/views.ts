/**
 * What reads, sinks and events return: the service's answers before the transport encodes them.
 * Apart from the call inputs (wbem-service-api.ts) so that the sink and the codec can name them
 * without importing the service's surface.
 */
import type { ClassDefinition, Derivation, ResolvedClass } from '../domain/class-model';
import type { InstanceView } from '../domain/instance-view';
import type { ClientContext } from './operation-context';

/** What a PutClass changes or, with validate_only, would change. */
export interface ChangeReportView {
  readonly kind: 'create' | 'update' | 'unchanged';
  /** §6.3 */
  readonly important: boolean;
  /** Instances of the class itself. */
  readonly instanceCount: number;
  /** Every subclass (all depths, breadth-first), with its instances and whether FORCE rewrites it. */
  readonly subclasses: readonly {
    readonly className: string;
    readonly instanceCount: number;
    readonly rewritten: boolean;
  }[];
}

/** __GENUS … __PROPERTY_COUNT of a class (genus 1) or an instance (genus 2). */
export interface SystemPropertiesView {
  readonly genus: 1 | 2;
  readonly className: string;
  readonly superclass: string;
  readonly dynasty: string;
  readonly derivation: Derivation;
  readonly server: string;
  /** `root\cimv2` */
  readonly namespace: string;
  /** `\\SERVER\root\cimv2:Class` */
  readonly path: string;
  readonly relpath: string;
  readonly propertyCount: number;
}

/** A class as reads return it: resolved (or local members only) plus system properties. */
export interface ClassView {
  readonly class: ResolvedClass;
  readonly system: SystemPropertiesView;
  /**
   * Made for one read of a class that nothing keeps (a big enumeration's scan): keep nothing keyed
   * by it. A WeakMap entry's value outlives young-generation GCs while its key is young, so a
   * cached view or encoding of each of 100,000 classes made every class survive to the old
   * generation (docs/performance.md, R3).
   */
  readonly transient?: true;
}

export interface NamespaceView {
  /** Last element, e.g. `cimv2`. */
  readonly name: string;
  /** `root\cimv2` */
  readonly path: string;
}

/** An instance as reads return it: every property of its class with its value, plus system properties. */
export interface InstanceObjectView {
  readonly instance: InstanceView;
  readonly system: SystemPropertiesView;
}

/** A class as an event carries it: as written (local members), with system properties. */
export interface EventClassView {
  readonly definition: ClassDefinition;
  readonly system: SystemPropertiesView;
}

/** One __ClassCreationEvent, __ClassModificationEvent or __ClassDeletionEvent (§9). */
export interface ClassEventView {
  readonly eventClass: '__ClassCreationEvent' | '__ClassModificationEvent' | '__ClassDeletionEvent';
  readonly revision: bigint;
  /** `root\cimv2` */
  readonly namespace: string;
  readonly target: EventClassView;
  /** Modification only. */
  readonly previous?: EventClassView;
  /** TIME_CREATED: 100-ns intervals since 1601-01-01 UTC. */
  readonly timeCreated: bigint;
  readonly context: ClientContext | undefined;
  readonly operationId: string;
}

/**
 * An enumeration whose checks passed: its classes, a page at a time; the next page is read only
 * when the consumer asks for it (back pressure), and breaking off stops the work.
 */
export type ClassPages = AsyncIterable<readonly ClassView[]>;
