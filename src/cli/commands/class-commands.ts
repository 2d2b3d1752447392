/**
 * `wbemd class get|enum|tree|delete|put`: GetClass, EnumClasses, DeleteClass and PutClassAsync
 * (with the object sink's progress on stderr under --send-status).
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ClassObject } from '../../../generated/wbem/v1/cim';
import {
  DeleteClassResponse,
  GetClassResponse,
  SetStatus,
} from '../../../generated/wbem/v1/services';
import { MofError } from '../../mof/lexer';
import { compileMof } from '../../mof/parser';
import { definitionToProto } from '../../transport/grpc/codec';
import {
  classDetail,
  classesAsMof,
  classRows,
  classTree,
  drawTree,
  type ClassTreeNode,
} from './format';
import {
  InputError,
  UsageError,
  messageOf,
  withSharedOptions,
  writeJson,
  type ConnectionFlags,
  type Runner,
} from './shared';

const FLAG = { UPDATE_ONLY: 1, CREATE_ONLY: 2, SAFE: 0x20, FORCE: 0x40, SEND_STATUS: 0x80 };

export function classCommand(run: Runner): Command {
  const command = new Command('class').description('read, list and write classes');
  const get = withSharedOptions(new Command('get'), ['table', 'json', 'mof'])
    .description('show a class (GetClass)')
    .argument('<class>')
    .option('--local-only', 'only the members the class itself declares');
  get.action(
    run<ConnectionFlags & { localOnly?: boolean }>(get, async (client, flags, out) => {
      const className = get.args[0] ?? '';
      const localOnly = flags.localOnly === true || flags.output === 'mof';
      const read = await client.getClass({ namespace: flags.namespace, className, localOnly });
      if (flags.output === 'json') writeJson(out, GetClassResponse.toJSON(read));
      else if (read.object === undefined) throw new UsageError('the server sent no class');
      else if (flags.output === 'mof') out.write(classesAsMof([read.object]));
      else out.write(classDetail(read.object, read.revision));
    }),
  );
  const enumerate = withSharedOptions(new Command('enum'), ['table', 'json', 'mof'])
    .description('list classes (EnumClasses): the top-level ones, or those under --superclass')
    .option('--superclass <class>', 'list the subclasses of this class', '')
    .option('--deep', 'all descendants, not only direct subclasses');
  enumerate.action(
    run<ConnectionFlags & { superclass: string; deep?: boolean }>(
      enumerate,
      async (client, flags, out) => {
        const classes = await client
          .enumClasses({
            namespace: flags.namespace,
            superclass: flags.superclass,
            deep: flags.deep === true,
            localOnly: flags.output === 'mof',
          })
          .toArray();
        if (flags.output === 'json')
          writeJson(
            out,
            classes.map((c) => ClassObject.toJSON(c)),
          );
        else if (flags.output === 'mof') out.write(classesAsMof(classes));
        else out.write(classRows(classes));
      },
    ),
  );
  command.addCommand(get).addCommand(enumerate).addCommand(treeCommand(run));
  return command.addCommand(deleteCommand(run)).addCommand(putCommand(run));
}

function treeCommand(run: Runner): Command {
  const tree = withSharedOptions(new Command('tree'), ['table', 'json'])
    .description('the class hierarchy, from one deep EnumClasses')
    .argument('[class]', 'start at this class instead of the top', '');
  tree.action(
    run(tree, async (client, flags, out) => {
      const root = tree.args[0] ?? '';
      const classes = await client
        .enumClasses({ namespace: flags.namespace, superclass: root, deep: true })
        .toArray();
      const nodes = classTree(classes, root);
      const asJson = (node: ClassTreeNode): unknown => ({
        name: node.name,
        children: node.children.map(asJson),
      });
      if (flags.output === 'json')
        writeJson(out, root === '' ? nodes.map(asJson) : asJson({ name: root, children: nodes }));
      else out.write(drawTree(nodes, root));
    }),
  );
  return tree;
}

function deleteCommand(run: Runner): Command {
  const remove = withSharedOptions(new Command('delete'), ['table', 'json'])
    .description('delete a class with its subclasses and their instances (DeleteClass)')
    .argument('<class>');
  remove.action(
    run(remove, async (client, flags, out) => {
      const className = remove.args[0] ?? '';
      const deleted = await client.deleteClass({ namespace: flags.namespace, className });
      if (flags.output === 'json') writeJson(out, DeleteClassResponse.toJSON(deleted));
      else for (const name of deleted.deletedClasses) out.write(`deleted ${name}\n`);
    }),
  );
  return remove;
}

interface PutFlags extends ConnectionFlags {
  readonly createOnly?: boolean;
  readonly updateOnly?: boolean;
  readonly safe?: boolean;
  readonly force?: boolean;
  readonly sendStatus?: boolean;
}

function putCommand(run: Runner): Command {
  const put = withSharedOptions(new Command('put'), ['table', 'json'])
    .description('create or update the classes of a MOF or JSON file, in order (PutClassAsync)')
    .argument('<file>', 'MOF, or JSON: a ClassObject, `class get -o json` output, or an array')
    .option('--create-only', 'WBEM_FLAG_CREATE_ONLY: fail if the class exists')
    .option('--update-only', 'WBEM_FLAG_UPDATE_ONLY: fail if it does not')
    .option('--safe', 'WBEM_FLAG_UPDATE_SAFE_MODE')
    .option('--force', 'WBEM_FLAG_UPDATE_FORCE_MODE')
    .option('--send-status', "WBEM_FLAG_SEND_STATUS: show the object sink's progress on stderr");
  put.action(
    run<PutFlags>(put, async (client, flags, out, err) => {
      const classes = readClasses(put.args[0] ?? '');
      // Flag conflicts are the server's to refuse, with its HRESULT.
      const lFlags =
        (flags.createOnly === true ? FLAG.CREATE_ONLY : 0) |
        (flags.updateOnly === true ? FLAG.UPDATE_ONLY : 0) |
        (flags.safe === true ? FLAG.SAFE : 0) |
        (flags.force === true ? FLAG.FORCE : 0) |
        (flags.sendStatus === true ? FLAG.SEND_STATUS : 0);
      const results: unknown[] = [];
      for (const object of classes) {
        const call = client.putClassAsync({ namespace: flags.namespace, object, flags: lFlags });
        for await (const step of call.events())
          err.write(`${object.className}: [${step.current}/${step.total}] ${step.message}\n`);
        const done = await call.result();
        if (flags.output === 'json') results.push(SetStatus.toJSON(done.setStatus));
        else out.write(`${done.status} ${done.path} (revision ${done.revision.toString()})\n`);
      }
      if (flags.output === 'json') writeJson(out, results);
    }),
  );
  return put;
}

/** The classes of a MOF or JSON file, in file order. */
export function readClasses(path: string): ClassObject[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${messageOf(error)}`);
  }
  if (path.endsWith('.json') || /^\s*[[{]/.test(text)) return classesFromJson(path, text);
  try {
    const unit = compileMof(basename(path), (name) =>
      name === basename(path) ? text : readFileSync(join(dirname(path), name), 'utf8'),
    );
    const [instance] = unit.instances;
    if (instance !== undefined)
      throw new InputError(
        `${path}:${instance.at.line}:${instance.at.column}: instance of ${instance.className}: ` +
          'class put writes classes; use `wbemd instance put` or `wbemd mofcomp --atomic`',
      );
    if (unit.classes.length === 0) throw new InputError(`${path}: no class in it`);
    return unit.classes.map((c) => definitionToProto(c.definition));
  } catch (error) {
    if (error instanceof MofError)
      throw new InputError(
        `${join(dirname(path), error.position.file)}:${error.position.line}:${error.position.column}: ${error.reason}`,
      );
    throw error;
  }
}

function classesFromJson(path: string, text: string): ClassObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not JSON: ${messageOf(error)}`);
  }
  const items = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  return items.map((item) => {
    const object =
      typeof item === 'object' && item !== null && 'object' in item ? item.object : item;
    const decoded = ClassObject.fromJSON(object);
    if (decoded.className === '')
      throw new InputError(`${path}: a class without "className" (the proto JSON mapping)`);
    return decoded;
  });
}
