/**
 * The CRUD baseline (not a test): the booking a team would write instead of event sourcing, measured the
 * way bench/commands.ts measures bookReservation, so the two can be divided. Called at the end of
 * `runCommandsBench` (its figures and the ratios go into bench/results/commands.json); alone with
 * `npx tsx bench/crud.ts` (writes bench/results/crud.json).
 *
 * Plain tables on a scratch database of its own: `crud_slots` (clinic, start, capacity, booked count;
 * primary key on clinic and start, a check that booked stays within capacity) and `crud_reservations`
 * (primary key on the reservation id, a foreign key to its slot with an index on it, an index on the
 * patient for their list). One booking is one transaction: `SELECT … FOR UPDATE` on the slot row,
 * refuse when full, INSERT the reservation, UPDATE the count. The slot rows of a day exist before it is
 * booked (a CRUD schedule generates them; not timed), as the event-sourced side registers its clinic
 * before timing.
 *
 * Fair on purpose: the same PostgreSQL server (durability as the server has it: no synchronous_commit
 * or fsync change, recorded in the machine block), the same driver (postgres.js) with the same pool size
 * as the command bench's event store (20), the same workloads —
 * - crud_book_p50_ms / p99: one writer, uncontended, 16 bookings a day on successive weekdays (slot
 *   capacity 2), for BENCH_SECONDS;
 * - crud_hot_day_*: 16 writers booking one day, 16 slots × capacity 12 = 192 bookings, every slot filled
 *   exactly, HOT_DAY_ROUNDS rounds, the same plan as the hot day of bench/commands.ts (booking k to slot
 *   k mod 16, writer w taking k ≡ w mod 16). In that plan each writer's bookings go to one slot, so the
 *   CRUD writers never wait on each other's row locks — CRUD's best case. `_random_slots` books the same
 *   192 in a shuffled order, so writers do collide on slot rows, as real arrivals would;
 * - crud_hot_day_bookings_per_s_2proc: the same day split over two processes as bench/commands.ts splits
 *   it (this one and a child, each with 16 writers and a pool of 20 on the bookings k with k mod 2 = its
 *   part), timed from the moment both are told to start until both are done.
 * Env: BENCH_SECONDS (default 4), HOT_DAY_ROUNDS (default 3).
 */
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { createScratchDatabase } from '@/lib/db/scratch';
import { atLocal } from '@/lib/domain';
import { hotDayPlan, SLOTS, weekdays } from './clinic-day';
import { benchMachine, isMain, percentile, printTable, round, writeResult, type Figure } from './lib';

/** The pool size of the command bench's event store, so both sides can have as many transactions open. */
const POOL_SIZE = 20;
const HOT_DAY = '2025-03-05';

export interface CrudBaselineOptions {
  seconds?: number;
  rounds?: number;
  writers?: number;
  capacity?: number;
}

class SlotFull extends Error {}

type Sql = postgres.Sql;

const connectPool = (url: string) => postgres(url, { max: POOL_SIZE, onnotice: () => {}, connection: { application_name: 'yeyak-bench-crud' } });

/** Opens every connection of the pool (postgres.js connects lazily), so no round times connection set-up. */
async function warmPool(sql: Sql): Promise<void> {
  await Promise.all(Array.from({ length: POOL_SIZE }, () => sql`select pg_sleep(0.02)`));
}

async function createTables(sql: Sql): Promise<void> {
  await sql`create table crud_slots (
    clinic_id text not null, starts_at timestamptz not null,
    capacity integer not null check (capacity > 0),
    booked integer not null default 0 check (booked >= 0 and booked <= capacity),
    primary key (clinic_id, starts_at))`;
  await sql`create table crud_reservations (
    id text primary key, clinic_id text not null, starts_at timestamptz not null,
    patient_id text not null, treatment_id text not null, kind text not null, status text not null,
    created_at timestamptz not null default now(),
    foreign key (clinic_id, starts_at) references crud_slots (clinic_id, starts_at))`;
  await sql`create index crud_reservations_slot_idx on crud_reservations (clinic_id, starts_at)`;
  await sql`create index crud_reservations_patient_idx on crud_reservations (patient_id)`;
}

/** A day's slot rows, as a CRUD schedule would generate them before patients book. */
async function openDay(sql: Sql, clinicId: string, day: string, capacity: number): Promise<void> {
  const rows = SLOTS.map((slot) => ({ clinic_id: clinicId, starts_at: atLocal(day, slot), capacity }));
  await sql`insert into crud_slots ${sql(rows, 'clinic_id', 'starts_at', 'capacity')}`;
}

/** The CRUD booking: lock the slot row, refuse when full, insert the reservation, count it. */
async function book(sql: Sql, clinicId: string, startsAt: Date): Promise<void> {
  await sql.begin(async (tx) => {
    const [slot] = await tx<{ capacity: number; booked: number }[]>`
      select capacity, booked from crud_slots where clinic_id = ${clinicId} and starts_at = ${startsAt} for update`;
    if (!slot) throw new Error(`no slot ${clinicId} ${startsAt.toISOString()}`);
    if (slot.booked >= slot.capacity) throw new SlotFull('slot full');
    await tx`insert into crud_reservations (id, clinic_id, starts_at, patient_id, treatment_id, kind, status)
      values (${`r-${randomUUID()}`}, ${clinicId}, ${startsAt}, ${`p-${randomUUID()}`}, 'tx-consult', 'consult-first', 'requested')`;
    await tx`update crud_slots set booked = booked + 1 where clinic_id = ${clinicId} and starts_at = ${startsAt}`;
  });
}

interface RoundResult {
  booked: number;
  refused: number;
  latencies: number[];
}

/** `writers` loops over the plan, writer w taking the bookings k ≡ w (mod writers), as the command bench's writers do. */
async function bookPlan(sql: Sql, clinicId: string, plan: string[], writers: number): Promise<RoundResult> {
  const result: RoundResult = { booked: 0, refused: 0, latencies: [] };
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let k = w; k < plan.length; k += writers) {
        const s0 = performance.now();
        try {
          await book(sql, clinicId, atLocal(HOT_DAY, plan[k]!));
          result.booked++;
          result.latencies.push(performance.now() - s0);
        } catch (error) {
          if (error instanceof SlotFull) result.refused++;
          else throw error;
        }
      }
    }),
  );
  return result;
}

/** Every slot of the round's day holds exactly its capacity, in the count and in reservation rows. */
async function checkDayFull(sql: Sql, clinicId: string, capacity: number): Promise<void> {
  const [row] = await sql<{ slots: number; full: number; reservations: number }[]>`
    select count(*)::int as slots, count(*) filter (where booked = capacity)::int as full,
      (select count(*)::int from crud_reservations r where r.clinic_id = ${clinicId}) as reservations
    from crud_slots where clinic_id = ${clinicId}`;
  if (row!.full !== row!.slots || row!.reservations !== row!.slots * capacity) throw new Error(`CRUD hot day ${clinicId} not filled exactly: ${JSON.stringify(row)}`);
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A child process of the 2-process variant: reads one JSON round per stdin line, answers with its result. */
async function runChild(url: string): Promise<void> {
  const sql = connectPool(url);
  await warmPool(sql);
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const { clinicId, plan, writers } = JSON.parse(line) as { clinicId: string; plan: string[]; writers: number };
    const result = await bookPlan(sql, clinicId, plan, writers);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  await sql.end({ timeout: 5 });
}

interface Child {
  process: ChildProcess;
  next(): Promise<string>;
}

function startChild(url: string): Child {
  const root = path.resolve(import.meta.dirname, '..');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', url], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    process: child,
    next: async () => {
      const { value, done } = await lines.next();
      if (done) throw new Error(`CRUD bench child exited (code ${child.exitCode})`);
      return value;
    },
  };
}

export async function runCrudBaseline(options: CrudBaselineOptions = {}): Promise<{ figures: Figure[]; machine: Record<string, unknown> }> {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 4);
  const rounds = options.rounds ?? Number(process.env.HOT_DAY_ROUNDS ?? 3);
  const writers = options.writers ?? 16;
  const capacity = options.capacity ?? 12;
  const scratch = await createScratchDatabase('yeyak_bench_crud', (m) => console.log(`[bench] ${m}`));
  const sql = connectPool(scratch.url);
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => figures.push({ name, value, unit });
  let child: Child | undefined;
  try {
    await createTables(sql);

    // 1. One writer, no contention: 16 bookings a day on successive weekdays (the day's rows opened untimed).
    const latencies: number[] = [];
    const days = weekdays();
    const deadline = performance.now() + seconds * 1000;
    for (let day = days.next().value!; performance.now() < deadline; day = days.next().value!) {
      await openDay(sql, 'crud-clinic', day, 2);
      for (const slot of SLOTS) {
        const t0 = performance.now();
        await book(sql, 'crud-clinic', atLocal(day, slot));
        latencies.push(performance.now() - t0);
      }
    }
    add('crud_book_p50_ms', round(percentile(latencies, 50), 2), 'ms');
    add('crud_book_p99_ms', round(percentile(latencies, 99), 2), 'ms');
    add('crud_book_samples', latencies.length, 'bookings');

    // 2. Hot day in one process: the command bench's plan, and the same bookings shuffled.
    const plan = hotDayPlan(capacity);
    await warmPool(sql);
    const hotDay = async (label: string, planOf: () => string[], runRound: (clinicId: string, roundPlan: string[]) => Promise<RoundResult>) => {
      let booked = 0;
      let refused = 0;
      let elapsedMs = 0;
      const hot: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const clinicId = `crud-hot-${label}-${r}`;
        await openDay(sql, clinicId, HOT_DAY, capacity);
        const t0 = performance.now();
        const result = await runRound(clinicId, planOf());
        elapsedMs += performance.now() - t0;
        booked += result.booked;
        refused += result.refused;
        hot.push(...result.latencies);
        await checkDayFull(sql, clinicId, capacity);
      }
      const suffix = label === 'default' ? '' : `_${label}`;
      add(`crud_hot_day_bookings_per_s${suffix}`, round((booked / elapsedMs) * 1000, 1), 'bookings/s');
      add(`crud_hot_day_booking_p50_ms${suffix}`, round(percentile(hot, 50), 2), 'ms');
      add(`crud_hot_day_booking_p99_ms${suffix}`, round(percentile(hot, 99), 2), 'ms');
      add(`crud_hot_day_slot_full_refusals${suffix}`, refused, `of ${rounds * plan.length} bookings`);
    };
    await hotDay('default', () => plan, (clinicId, p) => bookPlan(sql, clinicId, p, writers));
    await hotDay('random_slots', () => shuffled(plan), (clinicId, p) => bookPlan(sql, clinicId, p, writers));

    // 3. The same hot day split over this process and a child as bench/commands.ts splits it: each
    //    books the k with k mod 2 = its part, with `writers` writers; the child is told first.
    const started = (child = startChild(scratch.url));
    if ((await started.next()) !== 'ready') throw new Error('CRUD bench child did not start');
    const share = (p: string[], part: number) => p.filter((_, k) => k % 2 === part);
    await hotDay('2proc', () => plan, async (clinicId, p) => {
      started.process.stdin!.write(`${JSON.stringify({ clinicId, plan: share(p, 1), writers })}\n`);
      const results = await Promise.all([bookPlan(sql, clinicId, share(p, 0), writers), started.next().then((line) => JSON.parse(line) as RoundResult)]);
      return { booked: results.reduce((a, r) => a + r.booked, 0), refused: results.reduce((a, r) => a + r.refused, 0), latencies: results.flatMap((r) => r.latencies) };
    });

    const machine = await benchMachine(scratch, { secondsPerScenario: seconds, hotDayRounds: rounds, hotDayWriters: writers, poolSize: POOL_SIZE });
    return { figures, machine };
  } finally {
    if (child) {
      const { process: running } = child;
      running.stdin!.end();
      if (running.exitCode === null) await new Promise((resolve) => running.once('exit', resolve));
    }
    await sql.end({ timeout: 5 });
    await scratch.drop();
  }
}

if (isMain(import.meta.url)) {
  const childAt = process.argv.indexOf('--child');
  const main =
    childAt >= 0
      ? () => runChild(process.argv[childAt + 1]!)
      : async () => {
          const { figures, machine } = await runCrudBaseline();
          printTable('CRUD baseline (plain tables, one transaction per booking)', figures);
          console.log(`\n[bench] wrote ${writeResult('crud', { machine, figures })}`);
        };
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
