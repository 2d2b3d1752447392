/**
 * The DMTF CIM Schema 2.41 as the tests read it: from schemas/ in this repository (see schemas/README.md for DMTF's notice).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const CIM_SCHEMA_ROOT = resolve(process.cwd(), 'schemas/cim-schema-2.41/DMTF');
export const CIM_SCHEMA_ENTRY = 'cim_schema_2.41.0.mof';

/** Reads a schema file by its path relative to the root, as `#pragma include` names it. */
export const readSchemaFile = (path: string): string =>
  readFileSync(join(CIM_SCHEMA_ROOT, path), 'utf8');

/** Every .mof file under the root (absolute paths). */
export function schemaFiles(dir = CIM_SCHEMA_ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? schemaFiles(path) : name.endsWith('.mof') ? [path] : [];
  });
}

/** Every file as a CompileMof source, the root file first. */
export function schemaSources(): { name: string; text: string }[] {
  const files = schemaFiles().map((path) => ({
    name: relative(CIM_SCHEMA_ROOT, path),
    text: readFileSync(path, 'utf8'),
  }));
  return [
    ...files.filter((f) => f.name === CIM_SCHEMA_ENTRY),
    ...files.filter((f) => f.name !== CIM_SCHEMA_ENTRY),
  ];
}
