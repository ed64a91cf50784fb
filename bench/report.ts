/**
 * `npm run bench:report` (and the last step of `npm run bench`): every figure that has a goal, against
 * its goal, from whatever bench/results/*.json hold, written as one table at the top of
 * docs/PERFORMANCE.md between the goals markers (the rest of the document is left as it is). A goal's
 * figure is looked up in every result file (a figure a prefixed run measured again, e.g. scale-http.json,
 * gets a row of its own) and also with the `_1m` suffix bench/scale.ts gives figures at 1M events;
 * a figure found nowhere prints "not measured". Each row names its file and that run's machine, load
 * and date, since the files come from different runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMain, resultsDir, type BenchResult } from './lib';

type Comparison = '≥' | '>' | '≤' | '<' | '=';

interface Goal {
  figure: string;
  comparison: Comparison;
  target: number;
  unit: string;
  /** What the figure is, in a few words, when its name does not say it. */
  what?: string;
  /** Where the goal was set. */
  from: string;
}

/** Every benchmark goal of issue 13 and the issues before it, in one place. */
export const GOALS: readonly Goal[] = [
  { figure: 'append_single_w16_ratio_to_raw', comparison: '≥', target: 1.5, unit: '', what: '16 writers, single-event appends over raw INSERTs', from: 'issue 13' },
  { figure: 'append_single_p99_ms', comparison: '<', target: 6, unit: 'ms', what: 'one writer', from: 'issue 13' },
  { figure: 'live_delivery_p99_ms', comparison: '<', target: 20, unit: 'ms', what: 'append call → subscriber in another store instance', from: 'issue 13' },
  { figure: 'hot_day_bookings_per_s', comparison: '≥', target: 600, unit: 'bookings/s', what: 'one process, 16 writers, one clinic day', from: 'issue 13' },
  { figure: 'hot_day_concurrency_conflicts', comparison: '=', target: 0, unit: 'bookings', what: 'conflicts surfaced to callers, one process', from: 'issue 13' },
  { figure: 'hot_day_bookings_per_s_2proc', comparison: '≥', target: 300, unit: 'bookings/s', what: 'two processes on one clinic day', from: 'issue 13' },
  { figure: 'hot_day_concurrency_conflicts_2proc', comparison: '=', target: 0, unit: 'bookings', what: 'conflicts surfaced to callers, two processes', from: 'issue 13' },
  { figure: 'hot_day_ratio_to_crud', comparison: '≥', target: 1.0, unit: '', what: 'hot-day bookings/s over the CRUD baseline’s, bench/crud.ts', from: 'issue 13' },
  { figure: 'command_book_p99_ratio_to_crud', comparison: '≤', target: 1.5, unit: '', what: 'uncontended booking p99 over CRUD’s', from: 'issue 13' },
  { figure: 'rebuild_events_per_s', comparison: '≥', target: 30_000, unit: 'events/s', from: 'issue 13; was 20,000' },
  { figure: 'projection_lag_p99_ms', comparison: '<', target: 100, unit: 'ms', what: 'append → projections’ checkpoint', from: 'read side' },
  { figure: 'http_book_p99_ms', comparison: '<', target: 200, unit: 'ms', what: '50 signed-in clients booking over HTTP', from: 'issue 13' },
  { figure: 'app_rss_mb', comparison: '<', target: 600, unit: 'MB', what: 'web process resident memory under the HTTP load', from: 'issue 13' },
  { figure: 'worker_rss_mb', comparison: '<', target: 250, unit: 'MB', what: 'worker resident memory under the HTTP load', from: 'issue 13' },
  { figure: 'worker_catchup_rss_mb', comparison: '<', target: 250, unit: 'MB', what: 'worker catching up the whole log through its group, largest sample', from: 'issue 13, worker_rss_mb’s goal' },
  { figure: 'worker_catchup_idle_rss_mb', comparison: '<', target: 250, unit: 'MB', what: 'worker caught up, idle', from: 'issue 13, worker_rss_mb’s goal' },
  { figure: 'worker_build_rss_mb', comparison: '<', target: 250, unit: 'MB', what: 'worker building every projection from the log, largest sample', from: 'issue 13, worker_rss_mb’s goal' },
  { figure: 'worker_build_idle_rss_mb', comparison: '<', target: 250, unit: 'MB', what: 'worker after building, idle', from: 'issue 13, worker_rss_mb’s goal' },
  { figure: 'page_clinic_p99_ms', comparison: '<', target: 100, unit: 'ms', what: 'a clinic’s day, signed out, 10 connections', from: 'pages over HTTP' },
  { figure: 'page_clinic_rps', comparison: '≥', target: 300, unit: 'req/s', from: 'pages over HTTP' },
  { figure: 'page_me_p99_ms', comparison: '<', target: 150, unit: 'ms', from: 'pages over HTTP' },
  { figure: 'page_today_p99_ms', comparison: '<', target: 150, unit: 'ms', what: 'staff Today', from: 'staff pages' },
  { figure: 'page_board_p99_ms', comparison: '<', target: 150, unit: 'ms', what: 'staff board', from: 'staff pages' },
  { figure: 'board_update_p99_ms', comparison: '<', target: 300, unit: 'ms', what: 'staff action → 4 open boards', from: 'staff pages' },
  { figure: 'audit_query_patient_p99_ms', comparison: '<', target: 50, unit: 'ms', what: '1M events', from: 'audit trail' },
  { figure: 'audit_query_daterange_p99_ms', comparison: '<', target: 50, unit: 'ms', what: '1M events', from: 'audit trail' },
  { figure: 'audit_entity_page_p99_ms', comparison: '<', target: 50, unit: 'ms', what: '1M events', from: 'audit trail' },
  { figure: 'audit_export_1m_rss_mb', comparison: '<', target: 100, unit: 'MB', what: 'above idle, exporting 1M rows', from: 'audit trail' },
  { figure: 'verify_events_per_s', comparison: '≥', target: 50_000, unit: 'events/s', what: '1M events', from: 'integrity' },
];

export const GOALS_START = '<!-- goals:start -->';
export const GOALS_END = '<!-- goals:end -->';

const docFile = path.resolve(import.meta.dirname, '..', 'docs', 'PERFORMANCE.md');

function meets(value: number, goal: Goal): boolean {
  switch (goal.comparison) {
    case '≥':
      return value >= goal.target;
    case '>':
      return value > goal.target;
    case '≤':
      return value <= goal.target;
    case '<':
      return value < goal.target;
    case '=':
      return value === goal.target;
  }
}

const number = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });
const withUnit = (n: number, unit: string) => (unit ? `${number(n)} ${unit}` : number(n));

/**
 * The run a figure of a file came from. A file merged from partial runs (bench/http.ts --only=…) keeps
 * each partial run's machine under `partialRuns`: the newest one that lists the figure (`figures`), or
 * whose `parts` name it (`<part>_…`, `page_<part>_…`, `http_<part>_…`), measured it; else the file's own run.
 */
function machineOf(machine: Record<string, unknown>, figure: string): Record<string, unknown> {
  const partials = Array.isArray(machine.partialRuns) ? (machine.partialRuns as Array<Record<string, unknown>>) : [];
  const names = (run: Record<string, unknown>, key: string) => (Array.isArray(run[key]) ? (run[key] as unknown[]).map(String) : []);
  const measured = (run: Record<string, unknown>) =>
    names(run, 'figures').includes(figure) || names(run, 'parts').some((part) => [`${part}_`, `page_${part}_`, `http_${part}_`].some((prefix) => figure.startsWith(prefix)));
  return [...partials].reverse().find(measured) ?? machine;
}

/** A run's machine: cores, load (at start → end when recorded), date. */
function runOf(machine: Record<string, unknown>): string {
  const load = [machine.loadAverage1mAtStart ?? machine.loadAverageAtStart ?? machine.loadAverage1mBefore, machine.loadAverage1m]
    .filter((v): v is number => typeof v === 'number')
    .map(number)
    .join(' → ');
  const date = typeof machine.date === 'string' ? machine.date.slice(0, 16).replace('T', ' ') : '?';
  return `${machine.cpus ?? '?'} cores ${machine.cpuModel ?? ''}, load ${load || '?'}, ${date} UTC`.replace(/\s+,/g, ',');
}

function readResults(): Array<{ file: string; result: BenchResult }> {
  if (!fs.existsSync(resultsDir)) return [];
  return fs
    .readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, result: JSON.parse(fs.readFileSync(path.join(resultsDir, f), 'utf8')) as BenchResult }));
}

/** The goals table (markdown) for the result files at hand. */
export function goalsTable(results = readResults()): { markdown: string; met: number; notMet: number; notMeasured: number } {
  const rows: string[] = [];
  let met = 0;
  let notMet = 0;
  let notMeasured = 0;
  for (const goal of GOALS) {
    const goalText = `${goal.comparison} ${withUnit(goal.target, goal.unit)} (${goal.from})`;
    const label = (name: string) => `\`${name}\`${goal.what ? ` (${goal.what})` : ''}`;
    let found = 0;
    for (const name of [goal.figure, `${goal.figure}_1m`]) {
      for (const { file, result } of results) {
        const figure = result.figures?.find((f) => f.name === name);
        if (!figure) continue;
        found++;
        const measured = typeof figure.value === 'number' && Number.isFinite(figure.value);
        const verdict = !measured ? 'not measured (no value)' : meets(figure.value, goal) ? 'met' : '**not met**';
        if (!measured) notMeasured++;
        else if (verdict === 'met') met++;
        else notMet++;
        rows.push(`| ${label(name)} | ${measured ? withUnit(figure.value, goal.unit) : '–'} | ${goalText} | ${verdict} | ${file} | ${runOf(machineOf(result.machine ?? {}, name))} |`);
      }
    }
    if (found === 0) {
      notMeasured++;
      rows.push(`| ${label(goal.figure)} | – | ${goalText} | not measured | – | – |`);
    }
  }
  const markdown = [
    '## Goals',
    '',
    `Every figure with a goal (issue 13 and the issues before it; the goals are \`GOALS\` in \`bench/report.ts\`), from the`,
    '`bench/results/*.json` at hand, written by `npm run bench:report` (the last step of `npm run bench`; do not edit',
    'this table by hand). The files come from different runs: read each row with its run’s load (1-minute load',
    'average, at start → end when recorded; the machine has 2 cores). The sections below say how each was measured.',
    `${met} met, ${notMet} not met, ${notMeasured} not measured.`,
    '',
    '| figure | value | goal (set by) | met? | result file | run |',
    '| --- | ---: | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  return { markdown, met, notMet, notMeasured };
}

/** Writes the goals table into docs/PERFORMANCE.md (between the markers; before the first section if there are none). */
export function runReport(): { met: number; notMet: number; notMeasured: number } {
  const { markdown, ...counts } = goalsTable();
  const block = `${GOALS_START}\n${markdown}\n${GOALS_END}`;
  const doc = fs.readFileSync(docFile, 'utf8');
  const start = doc.indexOf(GOALS_START);
  const end = doc.indexOf(GOALS_END);
  let next: string;
  if (start >= 0 && end > start) next = doc.slice(0, start) + block + doc.slice(end + GOALS_END.length);
  else {
    const firstSection = doc.search(/^## /m);
    next = firstSection >= 0 ? `${doc.slice(0, firstSection)}${block}\n\n${doc.slice(firstSection)}` : `${doc}\n${block}\n`;
  }
  fs.writeFileSync(docFile, next);
  console.log(`[bench] goals: ${counts.met} met, ${counts.notMet} not met, ${counts.notMeasured} not measured → ${path.relative(process.cwd(), docFile)}`);
  return counts;
}

if (isMain(import.meta.url)) {
  runReport();
  process.exit(0);
}
