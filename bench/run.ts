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

// `npm run bench -- commands http` runs the named ones only (the report always comes last);
// `--skip=scale,access-log` runs all but those.
const args = process.argv.slice(2);
const skip = new Set(args.filter((a) => a.startsWith('--skip=')).flatMap((a) => a.slice('--skip='.length).split(',')));
const only = new Set(args.filter((a) => !a.startsWith('--')));
const known = new Set(benchmarks.map(([name]) => name));
const unknown = [...only, ...skip].filter((name) => !known.has(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  process.exit(2);
}
const chosen = benchmarks.filter(([name]) => name === 'report' || ((only.size === 0 || only.has(name)) && !skip.has(name)));

for (const [name, run] of chosen) {
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
process.exit(0);
