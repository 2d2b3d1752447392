/**
 * grpc-health-check's HealthImplementation, whose statuses can also be read: the HTTP listener
 * answers grpc.health.v1.Health/Check from the same statuses the gRPC port reports.
 */
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

export class ObservedHealth extends HealthImplementation {
  readonly #statuses = new Map<string, ServingStatus>();

  constructor(initial: Readonly<Record<string, ServingStatus>>) {
    super({ ...initial });
    for (const [name, status] of Object.entries(initial)) this.#statuses.set(name, status);
  }

  override setStatus(service: string, status: ServingStatus): void {
    this.#statuses.set(service, status);
    super.setStatus(service, status);
  }

  /** undefined: no such service is reported on. */
  statusOf(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }
}
