import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { classRecordKey } from '../../src/store/level/keys';
import { encodeClass } from '../../src/store/level/record-codec';
import { cls } from './class-store.contract';

/** The built store (`npm run build` first): it is opened in a child with a small old generation. */
const BUILT = resolve(__dirname, '..', '..', 'dist', 'src');
const NS = namespaceKeyOf(['root', 'cimv2']);
const CLASSES = 1_200;
/** ≈ 48 KB a record: the records hold 58 MB of text together, the child's old generation 32 MB. */
const DESCRIPTION = 'A long description. '.repeat(2_400);
const nameOf = (i: number): string => `Big_${i}`;
/** Every third class a root, each other one a subclass of the class before it. */
const superclassOf = (i: number): string => (i % 3 === 0 ? '' : nameOf(i - 1));

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wbemd-index-load-'));
  const db = new Level<string, string>(dir);
  await db.batch(
    Array.from({ length: CLASSES }, (_, i) => ({
      type: 'put' as const,
      key: classRecordKey(NS, classKey(nameOf(i))),
      value: encodeClass({
        definition: cls(nameOf(i), superclassOf(i), {
          qualifiers: [
            { name: 'Description', value: { kind: 'string', value: DESCRIPTION }, flavor: 0 },
          ],
        }),
        revision: BigInt(i + 1),
      }),
    })),
  );
  await db.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The class index of a namespace is derived from its class records on the first read, by a scan
 * of them all. The scan keeps each record's superclass name as it reads, not the record: it held
 * every record's text at once (100,000 classes: ≈ 240 MB; a restarted server's first call took
 * its RSS to 434 MB, docs/performance.md), which here overflows the child's 32 MB old generation.
 */
test("the first read derives the class index without holding the records' text", () => {
  const script = `
    const { LevelClassStore } = require(${JSON.stringify(join(BUILT, 'store', 'level', 'level-class-store.js'))});
    const { classKey } = require(${JSON.stringify(join(BUILT, 'domain', 'names.js'))});
    (async () => {
      const store = new LevelClassStore(${JSON.stringify(dir)});
      await store.open();
      const ns = ${JSON.stringify(NS)};
      const found = await store.getClass(ns, classKey('Big_7'));
      const roots = await store.listSubclasses(ns, null);
      const under = await store.listSubclasses(ns, classKey('Big_0'));
      await store.close();
      console.log(JSON.stringify({ superclass: found?.superclass, roots: roots.length, under }));
    })();`;
  const out = execFileSync(process.execPath, ['--max-old-space-size=32', '-e', script], {
    encoding: 'utf8',
  });
  expect(JSON.parse(out.trim())).toEqual({
    superclass: 'Big_6',
    roots: CLASSES / 3,
    under: [classKey('Big_1')],
  });
});
