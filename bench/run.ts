/** `npm run bench`: every benchmark, one after the other (each writes bench/results/<name>.json). */
import { runEventStoreBench } from './eventstore';
import { runCommandsBench } from './commands';
import { runProjectionsBench } from './projections';
import { runHttpBench } from './http';
import { runAuditBench } from './audit';
import { runIntegrityBench } from './integrity';
import { runAccessLogBench } from './access-log';
import { runScaleBench } from './scale';
import { runReport } from './report';

const benchmarks: Array<[string, () => Promise<unknown>]> = [
  ['eventstore', runEventStoreBench],
  ['commands', runCommandsBench],
  ['projections', runProjectionsBench],
  ['http', runHttpBench],
  ['audit', runAuditBench],
  ['integrity', runIntegrityBench],
  ['access-log', runAccessLogBench],
  // The figures again at 1M events (SCALE_EVENTS), and the worker's memory catching up from zero: minutes.
  ['scale', runScaleBench],
  // Last: the goals table of docs/PERFORMANCE.md from the result files just written.
  ['report', async () => runReport()],
];

for (const [name, run] of benchmarks) {
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
process.exit(0);
