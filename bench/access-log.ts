/**
 * Access-log figures (issue 10, item 4): with BENCH_ACCESS_ROWS entries (default 1 000 000, about two
 * years of a busy deployment: 40 clinics, 400 staff accounts, 200 000 patients), the p99 of the
 * /audit/access page's query (lib/queries/access-log.ts#readAccessLog: one keyset page of 50, newest
 * first) unfiltered (`access_log_page_p99_ms`), by patient (`access_log_patient_p99_ms` with the GIN
 * index's pending list as a bulk load leaves it, `access_log_patient_vacuumed_p99_ms` once merged), by account
 * (`access_log_account_p99_ms`), for a clinic manager (their clinic forced, `access_log_manager_p99_ms`)
 * and a page deep in the log (`access_log_deep_page_p99_ms`, the cursor of the 200th page); and the
 * monthly review's load of one month with its rules (`access_review_month_ms`, lib/privacy/access-review-month.ts).
 *
 * The rows are generated in SQL (not chained: the readers do not read the chain). `npx tsx bench/access-log.ts`,
 * or within `npm run bench`; only under `flock /tmp/yeyak-heavy.lock`.
 */
import os from 'node:os';
import postgres from 'postgres';
import { connect } from '@/lib/db/client';
import { createScratchDatabase } from '@/lib/db/scratch';
import { loadReviewMonth } from '@/lib/privacy/access-review-month';
import { readAccessLog, type AccessLogCursor } from '@/lib/queries/access-log';
import { benchMachine, isMain, percentile, printTable, round, writeResult, type Figure } from './lib';

const ROWS = Number(process.env.BENCH_ACCESS_ROWS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_ACCESS_SAMPLES ?? 200);
const CLINICS = 40;
const STAFF = 400;
const PATIENTS = 200_000;
// Two years ending at the start of 2026-12 (Seoul): the review month 2026-11 is the last full one.
const END = Date.parse('2026-11-30T15:00:00Z');
const SPAN_MS = 730 * 86_400_000;

export async function runAccessLogBench(): Promise<Figure[]> {
  const scratch = await createScratchDatabase('yeyak_bench_access', (m) => console.log(`[bench] ${m}`));
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => {
    figures.push({ name, value, unit });
    console.log(`  ${name} = ${value} ${unit}`);
  };
  const loadAverageAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const sql = postgres(scratch.url, { max: 2, onnotice: () => {} });
  const database = connect(scratch.url, { max: 2 });
  try {
    console.log(`[bench] writing ${ROWS} access-log entries…`);
    const t0 = performance.now();
    // Staff accounts (ids derived from their number), each of one clinic; names for the page's join.
    await sql`insert into users (id, email, name, password_hash, role, clinic_id)
      select md5('staff-' || s)::uuid, 'staff' || s || '@bench.example', 'Staff ' || s, 'x', 'staff', 'clinic-' || (s % ${CLINICS})
      from generate_series(0, ${STAFF - 1}) s`;
    // Mostly single-patient reads by staff at their clinic in working hours; every 10th a list of 8; a few exports.
    await sql`insert into access_log (occurred_at, account_id, role, clinic_id, ip, user_agent, action, resource, patient_ids, reason, detail)
      select to_timestamp((${END - SPAN_MS}::bigint + (i::bigint * ${Math.floor(SPAN_MS / ROWS)})) / 1000.0),
        md5('staff-' || (i % ${STAFF}))::uuid, 'staff', 'clinic-' || ((i % ${STAFF}) % ${CLINICS}), '10.0.' || (i % 250) || '.' || (i % 200), 'bench',
        case when i % 5000 = 0 then 'export' else 'view' end,
        case when i % 10 = 0 then 'patient-name' else 'patient-contact' end,
        case when i % 10 = 0 then array(select 'p-' || ((i + k * 7919) % ${PATIENTS}) from generate_series(0, 7) k) else array['p-' || ((i * 31) % ${PATIENTS})] end,
        case when i % 5000 = 0 then 'monthly statistics' end,
        null
      from generate_series(1, ${ROWS}) i`;
    await sql`analyze access_log`;
    add('access_log_rows_written', ROWS, 'rows');
    console.log(`[bench] written in ${round((performance.now() - t0) / 1000)} s`);

    const time = async (run: (i: number) => Promise<unknown>, samples = SAMPLES) => {
      for (let i = 0; i < 5; i++) await run(i); // warm
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) {
        const s = performance.now();
        await run(i);
        ms.push(performance.now() - s);
      }
      return round(percentile(ms, 99), 2);
    };
    const all = { clinicId: null };
    add('access_log_page_p99_ms', await time(() => readAccessLog(database.db, all, {}, null)), 'ms');
    // Right after a bulk load the patients' GIN index still has its pending list (fastupdate), the
    // worst case; autovacuum merges it (the figure after an explicit VACUUM is the steady state).
    const byPatient = (i: number) => readAccessLog(database.db, all, { patient: `p-${(i * 7717) % PATIENTS}` }, null);
    add('access_log_patient_p99_ms', await time(byPatient), 'ms');
    await sql`vacuum access_log`;
    add('access_log_patient_vacuumed_p99_ms', await time(byPatient), 'ms');
    add('access_log_account_p99_ms', await time((i) => readAccessLog(database.db, all, { account: `staff${i % STAFF}@bench.example` }, null)), 'ms');
    add('access_log_manager_p99_ms', await time((i) => readAccessLog(database.db, { clinicId: `clinic-${i % CLINICS}` }, { clinic: 'clinic-0' }, null)), 'ms');
    // The 200th page's cursor (10 000 rows in): keyset pages cost the same however deep.
    let cursor: AccessLogCursor | null = null;
    for (let p = 0; p < 200; p++) {
      const next: string | null = (await readAccessLog(database.db, all, {}, cursor)).next;
      const [id, at] = next!.split('~') as [string, string];
      cursor = { id: Number(id), at };
    }
    add('access_log_deep_page_p99_ms', await time(() => readAccessLog(database.db, all, {}, cursor)), 'ms');

    const month = await loadReviewMonth(database.db, '2026-11');
    add('access_review_month_entries', month.entries, 'rows');
    add('access_review_month_ms', await time(() => loadReviewMonth(database.db, '2026-11'), 5), 'ms');
    const machine = await benchMachine(scratch, { loadAverageAtStart, rows: ROWS, samples: SAMPLES, flags: month.flags.length });
    printTable('access log', figures);
    console.log(`[bench] wrote ${writeResult('access-log', { machine, figures })}`);
    return figures;
  } finally {
    await sql.end({ timeout: 5 });
    await database.close();
    await scratch.drop();
  }
}

if (isMain(import.meta.url)) {
  await runAccessLogBench();
  process.exit(0);
}
