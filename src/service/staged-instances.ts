/**
 * The instances a CompileMof has decided so far: the MOF's later instances are judged against
 * them (one atomic write), and `$Alias` references resolve to their paths.
 */
import type { CimValue } from '../domain/class-model';
import type { InstanceLocation, StoredInstance } from '../domain/instance-model';
import type { NamespaceKey } from '../domain/names';
import { WbemError } from '../domain/wbem-status';

/** The instances a CompileMof has decided so far (one atomic write): by location, and by alias. */
export class StagedInstances {
  readonly #byLocation = new Map<string, StoredInstance>();
  readonly #paths = new Map<string, string>();

  get(namespace: NamespaceKey, location: InstanceLocation): StoredInstance | undefined {
    return this.#byLocation.get(`${namespace}\u0000${location.keyRoot}\u0000${location.key}`);
  }

  stage(
    namespace: NamespaceKey,
    location: InstanceLocation,
    instance: StoredInstance,
    alias: string | undefined,
    relpath: string,
  ): void {
    this.#byLocation.set(`${namespace}\u0000${location.keyRoot}\u0000${location.key}`, instance);
    if (alias !== undefined) this.#paths.set(alias.replace(/^\$/, '').toLowerCase(), relpath);
  }

  /** `$Disk` in a reference (or an array of them) → the path of the instance declared `as $Disk`. */
  resolveAliases(value: CimValue | null): CimValue | null {
    if (value === null) return null;
    if (value.kind === 'array')
      return {
        kind: 'array',
        value: value.value.map((item) => this.resolveAliases(item) as CimValue),
      };
    if (value.kind !== 'reference' || !value.value.startsWith('$')) return value;
    const path = this.#paths.get(value.value.slice(1).toLowerCase());
    if (path === undefined)
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `alias ${value.value} is not declared by an earlier instance`,
      );
    return { kind: 'reference', value: path };
  }
}
