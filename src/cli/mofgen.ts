/**
 * `wbemd mofgen [--server HOST:PORT] -N NAMESPACE [-o FILE] [CLASS…]`: writes a namespace back as
 * MOF (mof-export.ts): the qualifier declarations (EnumQualifiers), every class from one
 * EnumClasses stream, parents before children, then the static instances, so `wbemd mofcomp --atomic` (or CompileMof) reads the output back to the same
 * namespace. With CLASS…: those classes only (one GetClass each), no instances.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { type WbemServicesClient, type GetClassResponse } from '../../generated/wbem/v1/services';
import { CONNECTION_USAGE, parseClientCommand, serverTarget } from './client-command';
import { connectToServer } from './grpc-client';
import {
  exportClasses,
  exportInstances,
  exportQualifierDeclarations,
  exportText,
} from './mof-export';

export const MOFGEN_USAGE = `usage: wbemd mofgen [--server HOST:PORT] -N NAMESPACE [-o FILE] [CLASS...]

${CONNECTION_USAGE}  -N, --namespace NS  the namespace to export (default root/cimv2)
  -o, --output FILE   write there instead of standard output
  CLASS...            these classes only (default: every class, parents first, then the
                      static instances)
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
  const target = serverTarget('mofgen', values, err);
  if (typeof target === 'number') return target;
  const client = connectToServer(target);
  try {
    const text =
      positionals.length > 0
        ? await namedClasses(client, namespace, positionals)
        : await wholeNamespace(client, namespace);
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

async function wholeNamespace(client: WbemServicesClient, namespace: string): Promise<string> {
  const qualifiers = await exportQualifierDeclarations(client, namespace);
  const classes = await exportClasses(client, namespace);
  const instances = await exportInstances(client, namespace, classes);
  return exportText({ namespace, qualifiers, classes, instances });
}

/** The classes named, in the order named, as the server writes them (GetClass with as_mof). */
async function namedClasses(
  client: WbemServicesClient,
  namespace: string,
  names: readonly string[],
): Promise<string> {
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
  return `// wbemd mofgen: ${names.length} classes of ${namespace}\n\n${parts.join('\n')}`;
}
