/** `npm run bench`: every benchmark, one run, figures printed. */
import { benchPutClassAsync } from './put-class-async';
import { benchSchemaLoad } from './schema-load';

async function main(): Promise<void> {
  await benchPutClassAsync();
  await benchSchemaLoad();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
