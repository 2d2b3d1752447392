/**
 * Static instances (docs/wmi-semantics.md §5.1: an instance copies its class's image): what a
 * client sends, what the store keeps and how an instance is named. Wire-free, immutable shapes.
 */
import type { CimValue } from './class-model';
import type { ClassKey } from './names';

/** One property value as a client sends it. */
export interface InstancePropertyInput {
  readonly name: string;
  /** The CIM type the client says it sends; 0 = not said (taken from the class). */
  readonly type: number;
  readonly array: boolean;
  /** null = NULL. */
  readonly value: CimValue | null;
  /** Qualifiers sent on an instance property (not stored: refused unless empty). */
  readonly qualifierCount: number;
}

/** pInst of PutInstance. */
export interface InstanceInput {
  /** __CLASS: the instance's own class. */
  readonly className: string;
  readonly properties: readonly InstancePropertyInput[];
  /** Instance-level qualifiers sent (not stored: refused unless 0). */
  readonly qualifierCount: number;
}

/** A stored value of one property, under the name as the class spells it. */
export interface InstanceValue {
  readonly name: string;
  readonly value: CimValue | null;
}

/** An instance as stored: its class and every property of the class (defaults applied). */
export interface StoredInstance {
  /** The class as spelled by the class definition at write time. */
  readonly className: string;
  /** In the resolved class's property order. */
  readonly values: readonly InstanceValue[];
}

/** One key of an instance path, name as written and typed value. */
export interface PathKey {
  readonly name: string;
  readonly value: CimValue;
}

/**
 * A parsed instance path: `Class.K1="a",K2=5`, `Class="a"` (the one key, unnamed), `Class=@`
 * (singleton). A namespace prefix (`\\.\root\cimv2:`) is returned as written; the service checks
 * it names the bound namespace.
 */
export interface InstancePath {
  readonly namespace: string | undefined;
  readonly className: string;
  /** 'singleton' for `Class=@`. An unnamed single key has name ''. */
  readonly keys: readonly PathKey[] | 'singleton';
}

/**
 * Where an instance lives in the store: instances of one keyed hierarchy share a key space
 * (the class that introduced the keys, `keyRoot`), so `A.Id="x"` and `B.Id="x"` (B:A) are the
 * same instance path and cannot both exist. `key` is the canonical key text (case-folded).
 */
export interface InstanceLocation {
  readonly keyRoot: ClassKey;
  readonly key: string;
}
