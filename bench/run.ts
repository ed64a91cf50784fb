/** `npm run bench`: every benchmark, one after the other (each writes bench/results/<name>.json). */
import { runEventStoreBench } from './eventstore';

const benchmarks: Array<[string, () => Promise<unknown>]> = [['eventstore', runEventStoreBench]];

for (const [name, run] of benchmarks) {
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
process.exit(0);
