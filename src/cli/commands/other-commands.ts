/**
 * `wbemd namespace list|create|delete`, `wbemd instance get|enum|put|delete` and `wbemd watch`.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CimType, Instance, type Property, type Value } from '../../../generated/wbem/v1/cim';
import { ClassEvent, NamespaceInfo } from '../../../generated/wbem/v1/services';
import type { WbemClient } from '../../client';
import { instanceDetail, instanceRows } from './format';
import {
  InputError,
  UsageError,
  messageOf,
  withSharedOptions,
  writeJson,
  type ConnectionFlags,
  type Runner,
} from './shared';

export function namespaceCommand(run: Runner): Command {
  const command = new Command('namespace').description('list, create and delete namespaces');
  const list = withSharedOptions(new Command('list'), ['table', 'json'])
    .description('the namespaces under PARENT (EnumNamespaces)')
    .argument('[parent]', 'default root', 'root')
    .option('--deep', 'every namespace below, not only the children');
  list.action(
    run<ConnectionFlags & { deep?: boolean }>(list, async (client, flags, out) => {
      const parent = list.args[0] ?? 'root';
      const found = await client.enumNamespaces({ parent, deep: flags.deep === true }).toArray();
      if (flags.output === 'json')
        writeJson(
          out,
          found.map((n) => NamespaceInfo.toJSON(n)),
        );
      else out.write(found.map((n) => `${n.path}\n`).join(''));
    }),
  );
  const create = withSharedOptions(new Command('create'), ['table', 'json'])
    .description('create a namespace under an existing one, e.g. root/test')
    .argument('<namespace>');
  create.action(
    run(create, async (client, flags, out) => {
      const path = create.args[0] ?? '';
      const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
      if (cut <= 0) throw new UsageError(`"${path}" names no parent: write it as root/NAME`);
      const made = await client.createNamespace({
        parent: path.slice(0, cut),
        name: path.slice(cut + 1),
      });
      if (flags.output === 'json') writeJson(out, made);
      else out.write(`created ${made.path}\n`);
    }),
  );
  const remove = withSharedOptions(new Command('delete'), ['table', 'json'])
    .description('delete a namespace and every namespace below it')
    .argument('<namespace>');
  remove.action(
    run(remove, async (client, flags, out) => {
      const namespace = remove.args[0] ?? '';
      await client.deleteNamespace({ namespace });
      if (flags.output === 'json') writeJson(out, {});
      else out.write(`deleted ${namespace}\n`);
    }),
  );
  return command.addCommand(list).addCommand(create).addCommand(remove);
}

export function instanceCommand(run: Runner): Command {
  const command = new Command('instance').description('read, list and write static instances');
  const get = withSharedOptions(new Command('get'), ['table', 'json'])
    .description('show an instance (GetInstance), e.g. \'Ex_Disk.Id="a"\'')
    .argument('<path>');
  get.action(
    run(get, async (client, flags, out) => {
      const { instance } = await client.getInstance({
        namespace: flags.namespace,
        path: get.args[0] ?? '',
      });
      if (instance === undefined) throw new UsageError('the server sent no instance');
      if (flags.output === 'json') writeJson(out, Instance.toJSON(instance));
      else out.write(instanceDetail(instance));
    }),
  );
  const enumerate = withSharedOptions(new Command('enum'), ['table', 'json'])
    .description('list the instances of a class (EnumInstances)')
    .argument('<class>')
    // Deep by default, as WMI's CreateInstanceEnum (lFlags 0 = WBEM_FLAG_DEEP), Get-CimInstance
    // and pywbemcli's `instance enumerate` return the instances of subclasses too.
    .option('--shallow', 'only the instances of the class itself (WBEM_FLAG_SHALLOW)');
  enumerate.action(
    run<ConnectionFlags & { shallow?: boolean }>(enumerate, async (client, flags, out) => {
      const instances = await client
        .enumInstances({
          namespace: flags.namespace,
          className: enumerate.args[0] ?? '',
          deep: flags.shallow !== true,
        })
        .toArray();
      if (flags.output === 'json')
        writeJson(
          out,
          instances.map((i) => Instance.toJSON(i)),
        );
      else out.write(instanceRows(instances));
    }),
  );
  const remove = withSharedOptions(new Command('delete'), ['table', 'json'])
    .description('delete an instance (DeleteInstance)')
    .argument('<path>');
  remove.action(
    run(remove, async (client, flags, out) => {
      const path = remove.args[0] ?? '';
      await client.deleteInstance({ namespace: flags.namespace, path });
      if (flags.output === 'json') writeJson(out, {});
      else out.write(`deleted ${path}\n`);
    }),
  );
  return command
    .addCommand(get)
    .addCommand(enumerate)
    .addCommand(putInstanceCommand(run))
    .addCommand(remove);
}

function putInstanceCommand(run: Runner): Command {
  const put = withSharedOptions(new Command('put'), ['table', 'json'])
    .description('create or update an instance: CLASS NAME=VALUE…, or --file with its JSON')
    .argument('[class]')
    .argument('[values...]', 'NAME=VALUE, typed by the class')
    .option('--file <file>', 'an Instance in the proto JSON mapping')
    .option('--create-only', 'WBEM_FLAG_CREATE_ONLY')
    .option('--update-only', 'WBEM_FLAG_UPDATE_ONLY');
  type Flags = ConnectionFlags & { file?: string; createOnly?: boolean; updateOnly?: boolean };
  put.action(
    run<Flags>(put, async (client, flags, out) => {
      const [className, ...values] = put.args;
      const instance =
        flags.file !== undefined
          ? instanceFromFile(flags.file)
          : await instanceFromArgs(client, flags.namespace, className, values);
      const written = await client.putInstance({
        namespace: flags.namespace,
        instance,
        flags: (flags.createOnly === true ? 2 : 0) | (flags.updateOnly === true ? 1 : 0),
      });
      if (flags.output === 'json') writeJson(out, written);
      else out.write(`put ${written.path}\n`);
    }),
  );
  return put;
}

function instanceFromFile(path: string): Instance {
  try {
    return Instance.fromJSON(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new InputError(`cannot read an instance from ${path}: ${messageOf(error)}`);
  }
}

async function instanceFromArgs(
  client: WbemClient,
  namespace: string,
  className: string | undefined,
  assignments: readonly string[],
): Promise<Instance> {
  if (className === undefined) throw new UsageError('instance put needs a CLASS (or --file)');
  const { object } = await client.getClass({ namespace, className });
  const properties = assignments.map((assignment): Property => {
    const cut = assignment.indexOf('=');
    if (cut <= 0) throw new UsageError(`"${assignment}" is not NAME=VALUE`);
    const name = assignment.slice(0, cut);
    const declared = object?.properties.find((p) => p.name.toLowerCase() === name.toLowerCase());
    if (declared === undefined) throw new UsageError(`${className} has no property ${name}`);
    return { ...declared, qualifiers: [], value: typedValue(declared, assignment.slice(cut + 1)) };
  });
  return Instance.fromPartial({ className: object?.className ?? className, properties });
}

/** A command-line string as a value of the property's type. */
function typedValue(property: Property, text: string): Value {
  const fail = (what: string): never => {
    throw new UsageError(`${property.name}: ${what} (give the instance with --file instead)`);
  };
  if (property.array || property.type === CimType.CIM_OBJECT) fail('arrays and objects');
  const integer = (): bigint => {
    if (!/^-?\d+$/.test(text)) fail(`"${text}" is not an integer`);
    return BigInt(text);
  };
  switch (property.type) {
    case CimType.CIM_BOOLEAN:
      if (text !== 'true' && text !== 'false') fail(`"${text}" is not true or false`);
      return { kind: { $case: 'boolean', boolean: text === 'true' } };
    case CimType.CIM_SINT8:
    case CimType.CIM_SINT16:
    case CimType.CIM_SINT32:
    case CimType.CIM_SINT64:
      return { kind: { $case: 'sint', sint: integer() } };
    case CimType.CIM_UINT8:
    case CimType.CIM_UINT16:
    case CimType.CIM_UINT32:
    case CimType.CIM_UINT64:
      return { kind: { $case: 'uint', uint: integer() } };
    case CimType.CIM_REAL32:
    case CimType.CIM_REAL64:
      if (Number.isNaN(Number(text))) fail(`"${text}" is not a number`);
      return { kind: { $case: 'real', real: Number(text) } };
    case CimType.CIM_DATETIME:
      return { kind: { $case: 'datetime', datetime: text } };
    case CimType.CIM_REFERENCE:
      return { kind: { $case: 'reference', reference: text } };
    case CimType.CIM_CHAR16:
      return { kind: { $case: 'char16', char16: text } };
    default:
      return { kind: { $case: 'string', string: text } };
  }
}

export function watchCommand(run: Runner): Command {
  const watch = withSharedOptions(new Command('watch'), ['table', 'json'])
    .description('stream the class events of a namespace until Ctrl-C (WatchClassEvents)')
    .option('--class <class>', 'only events about this class and its subclasses', '')
    .option('--since-revision <n>', 'replay the retained events after this revision first');
  type Flags = ConnectionFlags & { class: string; sinceRevision?: string };
  watch.action(
    run<Flags>(watch, async (client, flags, out, err) => {
      const since = flags.sinceRevision;
      if (since !== undefined && !/^\d+$/.test(since))
        throw new UsageError('--since-revision takes a revision number');
      const events = client.watchClassEvents(
        {
          namespace: flags.namespace,
          className: flags.class,
          ...(since === undefined ? {} : { sinceRevision: BigInt(since) }),
        },
        (headers) => {
          const [revision] = headers.get('wbem-revision');
          err.write(`watching ${flags.namespace} at revision ${String(revision)} (Ctrl-C stops)\n`);
        },
      );
      const stop = (): void => events.cancel();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        for await (const event of events) {
          if (flags.output === 'json') out.write(`${JSON.stringify(ClassEvent.toJSON(event))}\n`);
          else
            out.write(
              `${event.revision.toString()}  ${event.eventClass}  ${event.targetClass?.className ?? ''}\n`,
            );
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    }),
  );
  return watch;
}
