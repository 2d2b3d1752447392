/**
 * Issue #4: FORCE mode rewrites every affected subclass in one atomic batch — after a crash either
 * all of it or none of it is there. A real `wbemd serve` is killed with SIGKILL the moment it
 * reports "committed" (visible, not yet synced), then the data directory is opened again.
 */
import { Metadata, credentials } from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { deadline, transcript } from '../helpers/transcript';
import { cls, p, q } from './fixtures';
import { CimType } from '../../generated/wbem/v1/cim';

const SUBCLASSES = 3_000;
const FORCE = 0x40;
const SEND_STATUS = 0x80;

async function serve(dataDir: string): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(
    process.execPath,
    [
      resolve(__dirname, '..', '..', 'bin', 'wbemd.js'),
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--data',
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { child, address: line.replace('listening on ', '') };
}

test('a FORCE update killed between its commit point and its sync leaves all of it or none of it', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-force-'));
  try {
    const first = await serve(dataDir);
    const client = new WbemServicesClient(first.address, credentials.createInsecure());
    // A{Id key} and 3,000 subclasses that each declare Z:string, loaded in one CompileMof.
    const mof = [
      'class A { [Key] string Id; };',
      ...Array.from({ length: SUBCLASSES }, (_, i) => `class Sub${i} : A { string Z; };`),
    ].join('\n');
    const loaded = await transcript(
      client.compileMof(
        {
          namespace: 'root/cimv2',
          sources: [{ name: 'all.mof', text: mof }],
          flags: 0,
          continueOnError: false,
        },
        new Metadata(),
        deadline(60_000),
      ),
    );
    expect(loaded.end.code).toBe(0);
    // FORCE: A gains Z:uint32, so every subclass loses its Z:string — 3,001 classes in one write.
    const call = client.putClassAsync(
      {
        namespace: 'root/cimv2',
        object: cls('A', '', [
          p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }),
          p('Z', CimType.CIM_UINT32),
        ]),
        flags: FORCE | SEND_STATUS,
      },
      new Metadata(),
      deadline(60_000),
    );
    const exited = once(first.child, 'exit');
    call.on('data', (event: { event?: { $case: string; progress?: { message: string } } }) => {
      if (event.event?.$case === 'progress' && event.event.progress?.message === 'committed')
        first.child.kill('SIGKILL');
    });
    call.on('error', () => undefined); // the server dies under the call
    await exited;
    client.close();

    const store = new LevelClassStore(dataDir);
    await store.open();
    try {
      const ns = namespaceKeyOf(['root', 'cimv2']);
      const a = await store.getClass(ns, classKey('A'));
      const baseHasZ = a?.properties.some((x) => x.name === 'Z') ?? false;
      let childrenWithZ = 0;
      for (let i = 0; i < SUBCLASSES; i++) {
        const child = await store.getClass(ns, classKey(`Sub${i}`));
        expect(child).toBeDefined();
        if (child?.properties.some((x) => x.name === 'Z')) childrenWithZ++;
      }
      // All or nothing: the new A and no child Z, or the old A and every child Z.
      expect({ baseHasZ, childrenWithZ }).toEqual(
        baseHasZ
          ? { baseHasZ: true, childrenWithZ: 0 }
          : { baseHasZ: false, childrenWithZ: SUBCLASSES },
      );
    } finally {
      await store.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}, 120_000);
