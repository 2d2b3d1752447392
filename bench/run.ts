/** `npm run bench`: every benchmark, one run, figures printed. */
import { benchPutClassAsync } from './put-class-async';

async function main(): Promise<void> {
  await benchPutClassAsync();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
