/**
 * `wbemd mofgen [--server HOST:PORT] -N NAMESPACE [-o FILE] [CLASS…]`: writes classes back as MOF
 * (GetClass with as_mof), parents before children, so `wbemd mofcomp` or CompileMof reads the
 * output back to the same classes. No CLASS: every class of the namespace.
 */
import { isSystemClassName } from '../domain/system-classes';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { type WbemServicesClient, type GetClassResponse } from '../../generated/wbem/v1/services';
import type { ClassObject } from '../../generated/wbem/v1/cim';
import { connectToServer, parseClientCommand } from './client-command';

export const MOFGEN_USAGE = `usage: wbemd mofgen [--server HOST:PORT] -N NAMESPACE [-o FILE] [CLASS...]

  --server HOST:PORT  the wbemd server (env WBEMD_SERVER; default 127.0.0.1:50051)
  -N, --namespace NS  the namespace to export (default root/cimv2)
  -o, --output FILE   write there instead of standard output
  CLASS...            these classes only (default: every class, parents first)
`;

export async function mofgen(
  args: readonly string[],
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const parsed = parseClientCommand(
    'mofgen',
    MOFGEN_USAGE,
    args,
    { output: { type: 'string', short: 'o' } },
    out,
    err,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const namespace = values.namespace ?? 'root/cimv2';
  const client = connectToServer(values.server);
  try {
    // EnumClasses deep is breadth-first: parents before children (docs/decisions.md D15).
    const names = positionals.length > 0 ? positionals : await allClassNames(client, namespace);
    const parts: string[] = [];
    for (const className of names) {
      const response = await new Promise<GetClassResponse>((resolvePromise, reject) =>
        client.getClass(
          { namespace, className, localOnly: true, asMof: true },
          new Metadata(),
          (error: ServiceError | null, value?: GetClassResponse) =>
            error !== null || value === undefined
              ? reject(error ?? new Error('no response'))
              : resolvePromise(value),
        ),
      );
      parts.push(response.mof);
    }
    const text = `// wbemd mofgen: ${names.length} classes of ${namespace}\n\n${parts.join('\n')}`;
    if (values.output === undefined) out.write(text);
    else writeFileSync(values.output, text);
    return 0;
  } catch (error) {
    const failure = error as Partial<ServiceError>;
    const status = failure.metadata?.get('wbem-status')[0];
    err.write(
      `wbemd mofgen: ${typeof status === 'string' ? `${status}: ` : ''}${failure.details ?? failure.message ?? String(error)}\n`,
    );
    return 1;
  } finally {
    client.close();
  }
}

function allClassNames(client: WbemServicesClient, namespace: string): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const names: string[] = [];
    const call = client.enumClasses(
      { namespace, superclass: '', deep: true, localOnly: true },
      new Metadata(),
    );
    // System classes (`__…`) are built into every namespace and cannot be compiled: not exported.
    call.on('data', (object: ClassObject) => {
      if (!isSystemClassName(object.className)) names.push(object.className);
    });
    call.on('error', reject);
    call.on('end', () => resolvePromise(names));
  });
}
