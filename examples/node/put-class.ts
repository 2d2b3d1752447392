/**
 * A Node client of wbemd on the `wbemd/client` package (docs/clients.md).
 *
 *   npm run -s build && node dist/examples/node/put-class.js 127.0.0.1:50051
 *
 * In your own project the import is `from 'wbemd/client'`; inside this repository it is the source.
 * It creates a class with PutClassAsync (SEND_STATUS | CREATE_ONLY), printing the sink's progress
 * and its final status, then makes the same call again, which fails with a typed WbemError that
 * carries the final SetStatus. One JSON line per call.
 */
import { CimType, PutClassFlag, WbemClient, WbemError, type ClassObject } from '../../src/client';

const widget = (className: string): ClassObject => ({
  className,
  superclass: '',
  qualifiers: [],
  methods: [],
  properties: [
    {
      name: 'Id',
      type: CimType.CIM_STRING,
      array: false,
      qualifiers: [
        {
          name: 'Key',
          value: { kind: { $case: 'boolean', boolean: true } },
          flavor: 0,
          propagated: false,
        },
      ],
      referenceClass: '',
      embeddedClass: '',
      classOrigin: '',
      propagated: false,
    },
  ],
});

async function putOnce(client: WbemClient, call: string, className: string): Promise<void> {
  const sink = client.putClassAsync({
    namespace: 'root/cimv2',
    object: widget(className),
    flags: PutClassFlag.WBEM_FLAG_SEND_STATUS | PutClassFlag.WBEM_FLAG_CREATE_ONLY,
  });
  const progress: [number, number][] = [];
  try {
    for await (const step of sink.events()) progress.push([step.current, step.total]);
    const done = await sink.result();
    console.log(
      JSON.stringify({
        call,
        progress,
        status: done.status,
        path: done.path,
        revision: String(done.revision),
      }),
    );
  } catch (error) {
    if (!(error instanceof WbemError)) throw error;
    console.log(
      JSON.stringify({
        call,
        progress,
        status: error.status,
        hresult: error.hresult,
        param: error.setStatus?.param,
        reason: error.details[0]?.reason,
      }),
    );
  }
}

async function main(address = '127.0.0.1:50051', className = 'Node_Example'): Promise<void> {
  const client = new WbemClient({ address, deadlineMs: 20_000 });
  try {
    await putOnce(client, 'create', className);
    await putOnce(client, 'create-again', className);
    const { object, revision } = await client.getClass({ namespace: 'root/cimv2', className });
    console.log(
      JSON.stringify({ call: 'get', className: object?.className, revision: String(revision) }),
    );
  } finally {
    client.close();
  }
}

main(process.argv[2], process.argv[3]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
