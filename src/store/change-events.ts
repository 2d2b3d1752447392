/** The log record a class write asks for, shared by the commit paths of every adapter. */
import type { ClassEventRecord, StoreWrite } from './class-store';

/** The log record a class write asks for (`write.event`), at its revision; undefined when it asks for none. */
export function changeEventRecord(
  write: Extract<StoreWrite, { op: 'putClass' | 'deleteClass' }>,
  revision: bigint,
): ClassEventRecord | undefined {
  // Field by field rather than rest and spread: this runs for every class write.
  if (write.op === 'deleteClass') {
    const event = write.event;
    if (event === undefined) return undefined;
    const { derivation, context, operationId, timeCreated, target } = event;
    return {
      derivation,
      context,
      operationId,
      timeCreated,
      revision,
      kind: 'deleted',
      namespace: write.namespace,
      target,
    };
  }
  const event = write.event;
  if (event === undefined) return undefined;
  const { derivation, context, operationId, timeCreated, previous } = event;
  return previous === undefined
    ? {
        derivation,
        context,
        operationId,
        timeCreated,
        revision,
        kind: 'created',
        namespace: write.namespace,
        target: write.definition,
      }
    : {
        derivation,
        context,
        operationId,
        timeCreated,
        revision,
        kind: 'modified',
        namespace: write.namespace,
        target: write.definition,
        previous,
      };
}
