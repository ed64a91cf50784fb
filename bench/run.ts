/** `npm run bench`: every benchmark, one after the other (each writes bench/results/<name>.json). */
import { runEventStoreBench } from './eventstore';
import { runCommandsBench } from './commands';
import { runProjectionsBench } from './projections';
import { runHttpBench } from './http';
import { runAuditBench } from './audit';
import { runAccessLogBench } from './access-log';
import { runIntegrityBench } from './integrity';

const benchmarks: Array<[string, () => Promise<unknown>]> = [
  ['eventstore', runEventStoreBench],
  ['commands', runCommandsBench],
  ['projections', runProjectionsBench],
  ['http', runHttpBench],
  ['audit', runAuditBench],
  ['access-log', runAccessLogBench],
  ['integrity', runIntegrityBench],
];

for (const [name, run] of benchmarks) {
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
process.exit(0);
