/**
 * Command-side benchmark (not a test): part of `npm run bench`, alone with `npx tsx bench/commands.ts`.
 *
 * On a fresh, migrated database of its own (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded
 * PostgreSQL under .data/):
 * - command_book_p50_ms / p99: one writer booking (bookReservation: load the clinic, hold on the
 *   clinic day with its expected revision, record the reservation, confirm the hold — three
 *   load-decide-append cycles) on uncontended clinic days, 16 bookings a day (realistic stream lengths);
 * - hot_day_bookings_per_s: 16 writers booking the same clinic day at once (16 slots × capacity 12 =
 *   192 bookings, every slot filled exactly), so every hold and hold confirmation targets one stream
 *   (batched by the handler: lib/commands/handle.ts); with the attempts the holds took and the
 *   ConcurrencyConflicts left after the retry budget;
 * - the same hot day without the per-stream command queue and stream cache (`_unqueued_uncached`), to show
 *   what they are for;
 * - the same hot day stormed by two OS processes at once (`_2proc`: this one and a child `tsx` process,
 *   16 writers each, half the bookings each), whose batches race on the day's expected revision;
 * - command_cancel_p50_ms: a single-stream command (load, decide, append) for comparison.
 * - the CRUD baseline's figures (bench/crud.ts: the same workloads as plain tables and one transaction per
 *   booking), and hot_day_ratio_to_crud, command_book_p99_ratio_to_crud (ours over CRUD's).
 * Prints a table and writes bench/results/commands.json. Env: BENCH_SECONDS (default 4), HOT_DAY_ROUNDS (default 3).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createEventStore } from '@/lib/eventstore';
import { createScratchDatabase } from '@/lib/db/scratch';
import { atLocal, schedule, streams, timeOfMinutes } from '@/lib/domain';
import { bookReservation, cancelReservation, commandMetadata, ConcurrencyConflict, type CommandDeps } from '@/lib/commands';
import { loadStream } from '@/lib/commands/handle';
import { registerTestClinic } from '@/lib/commands/testing';
import { runCrudBaseline } from './crud';
import { benchMachine, isMain, percentile, printTable, round, writeResult, type Figure } from './lib';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const HOT_DAY_ROUNDS = Number(process.env.HOT_DAY_ROUNDS ?? 3);
const NOW = new Date('2025-03-02T00:00:00Z'); // a Sunday; bookings go to the following weekdays

/** The 16 slot starts of a fixture clinic's weekday (10:00–13:00 and 14:00–19:00, 30-minute slots). */
const SLOTS = [...Array.from({ length: 6 }, (_, i) => 600 + i * 30), ...Array.from({ length: 10 }, (_, i) => 840 + i * 30)].map(timeOfMinutes);

/** Weekdays from 2025-03-03 on (the fixture clinic is closed on Sundays and open until 15:00 on Saturdays). */
function* weekdays(): Generator<string> {
  for (let d = new Date('2025-03-03T03:00:00Z'); ; d = new Date(d.getTime() + 86_400_000)) {
    const day = d.toISOString().slice(0, 10);
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
    if (weekday >= 1 && weekday <= 5) yield day;
  }
}

// The patient books as themselves (the command layer's policy step checks patientId = actor).
const meta = (clinicId: string, patientId: string) => commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId, ip: '203.0.113.7', userAgent: 'bench' });
// The instants of the slots, computed once: the harness's own time-zone arithmetic is not the system's.
const instants = new Map<string, string>();
const instantOf = (day: string, slot: string) => {
  const key = `${day} ${slot}`;
  let at = instants.get(key);
  if (at === undefined) instants.set(key, (at = atLocal(day, slot).toISOString()));
  return at;
};
const booking = (clinicId: string, day: string, slot: string) => ({
  reservationId: `r-${randomUUID()}`,
  clinicId,
  patientId: `p-${randomUUID()}`,
  treatmentId: 'tx-consult',
  kind: 'consult-first' as const,
  startsAt: instantOf(day, slot),
});

const CAPACITY = 12;
const WRITERS = 16;
const HOT_DAY = '2025-03-05';

/** What a hot-day run counts (per process; the two-process run adds the child's). */
interface HotDayTally {
  booked: number;
  conflicts: number;
  refused: number;
  holdAttempts: number[];
  latencies: number[];
}
const emptyTally = (): HotDayTally => ({ booked: 0, conflicts: 0, refused: 0, holdAttempts: [], latencies: [] });

/**
 * WRITERS concurrent writers booking `clinicId`'s hot day: the plan fills its 16 slots × CAPACITY
 * exactly; this process takes the bookings k with k % parts = part (two processes split one day).
 */
async function bookHotDay(deps: CommandDeps, clinicId: string, share: { part: number; parts: number }, tally: HotDayTally): Promise<void> {
  const plan = Array.from({ length: SLOTS.length * CAPACITY }, (_, k) => SLOTS[k % SLOTS.length]!).filter((_, k) => k % share.parts === share.part);
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let k = w; k < plan.length; k += WRITERS) {
        const s0 = performance.now();
        try {
          const input = booking(clinicId, HOT_DAY, plan[k]!);
          const result = await bookReservation(deps, input, meta(clinicId, input.patientId));
          tally.booked++;
          tally.holdAttempts.push(result.holdAttempts);
          tally.latencies.push(performance.now() - s0);
        } catch (error) {
          if (error instanceof ConcurrencyConflict) tally.conflicts++;
          else if ((error as { code?: string }).code === 'schedule.slot_over_capacity') tally.refused++;
          else throw error;
        }
      }
    }),
  );
}

/**
 * Two OS processes storming one clinic day at once: this one and a child (`tsx bench/commands.ts`
 * with HOT_DAY_CHILD set) with its own event store, connections, stream cache and command batches,
 * each with WRITERS writers on half of the day's bookings. Their batches race on the day's expected
 * revision; the handler's reload-and-retry must keep every ConcurrencyConflict from the callers.
 * Timed from the moment both are told to go until both have finished; the child starts (and loads
 * its code) before that.
 */
async function hotDayTwoProcesses(deps: CommandDeps, url: string): Promise<Figure[]> {
  const child = spawn(path.resolve(import.meta.dirname, '../node_modules/.bin/tsx'), [fileURLToPath(import.meta.url)], {
    env: { ...process.env, HOT_DAY_CHILD: '1', HOT_DAY_DATABASE_URL: url },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const replies: string[] = [];
  let wake: (() => void) | null = null;
  lines.on('line', (line) => {
    if (!line.startsWith('HOT_DAY ')) return;
    replies.push(line.slice('HOT_DAY '.length));
    wake?.();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const reply = async (): Promise<string> => {
    while (replies.length === 0) {
      const next = new Promise<void>((resolve) => (wake = resolve));
      const code = await Promise.race([next.then(() => undefined), exited]);
      if (code !== undefined && replies.length === 0) throw new Error(`the hot-day child process exited (${code})`);
    }
    return replies.shift()!;
  };
  try {
    if ((await reply()) !== 'ready') throw new Error('the hot-day child did not start');
    const tally = emptyTally();
    let elapsedMs = 0;
    // Round -1 warms both processes up (as in the one-process hot day) and is not counted.
    for (let r = -1; r < HOT_DAY_ROUNDS; r++) {
      const clinicId = `bench-hot-2proc-${r < 0 ? 'warm-up' : r}`;
      await registerTestClinic(deps, clinicId, { slotCapacity: CAPACITY });
      const ours = emptyTally();
      const t0 = performance.now();
      child.stdin!.write(`${JSON.stringify({ clinicId, part: 1, parts: 2 })}\n`);
      await bookHotDay(deps, clinicId, { part: 0, parts: 2 }, ours);
      const theirs = JSON.parse(await reply()) as HotDayTally;
      if (r < 0) continue;
      elapsedMs += performance.now() - t0;
      for (const t of [ours, theirs]) {
        tally.booked += t.booked;
        tally.conflicts += t.conflicts;
        tally.refused += t.refused;
        tally.holdAttempts.push(...t.holdAttempts);
        tally.latencies.push(...t.latencies);
      }
      // Not a test, but a figure of a double-booked day would be worthless: one confirmed hold per
      // booking made, no slot over capacity.
      const day = await loadStream(deps.store, schedule.scheduleDecider, streams.schedule(clinicId, HOT_DAY), undefined, { cache: false });
      const holds = Object.values(day.state.holds);
      const perSlot = new Map<string, number>();
      for (const h of holds) perSlot.set(h.startsAt, (perSlot.get(h.startsAt) ?? 0) + 1);
      if (holds.length !== ours.booked + theirs.booked || holds.some((h) => !h.confirmed) || [...perSlot.values()].some((c) => c > CAPACITY)) {
        throw new Error(`hot day ${clinicId}: ${holds.length} holds for ${ours.booked + theirs.booked} bookings, slots ${JSON.stringify([...perSlot.values()])}`);
      }
    }
    const n = HOT_DAY_ROUNDS * SLOTS.length * CAPACITY;
    return [
      { name: 'hot_day_bookings_per_s_2proc', value: round((tally.booked / elapsedMs) * 1000, 1), unit: 'bookings/s (both processes)' },
      { name: 'hot_day_booking_p50_ms_2proc', value: round(percentile(tally.latencies, 50), 2), unit: 'ms' },
      { name: 'hot_day_booking_p99_ms_2proc', value: round(percentile(tally.latencies, 99), 2), unit: 'ms' },
      { name: 'hot_day_hold_attempts_mean_2proc', value: round(tally.holdAttempts.reduce((a, b) => a + b, 0) / Math.max(1, tally.holdAttempts.length), 2), unit: 'attempts' },
      { name: 'hot_day_hold_attempts_max_2proc', value: Math.max(0, ...tally.holdAttempts), unit: 'attempts' },
      { name: 'hot_day_concurrency_conflicts_2proc', value: tally.conflicts, unit: `of ${n} bookings` },
      { name: 'hot_day_slot_full_refusals_2proc', value: tally.refused, unit: 'bookings' },
    ];
  } finally {
    child.stdin!.end();
    await exited;
  }
}

/** The child of hotDayTwoProcesses: books its share of each day it is sent, answers with its tally. */
async function hotDayChild(): Promise<void> {
  const store = await createEventStore({ databaseUrl: process.env.HOT_DAY_DATABASE_URL!, hmacKey: 'bench-key-at-least-16-bytes', maxConnections: 20 });
  const deps: CommandDeps = { store, clock: () => NOW };
  const say = (line: string) => process.stdout.write(`HOT_DAY ${line}\n`);
  say('ready');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const { clinicId, part, parts } = JSON.parse(line) as { clinicId: string; part: number; parts: number };
    const tally = emptyTally();
    await bookHotDay(deps, clinicId, { part, parts }, tally);
    say(JSON.stringify(tally));
  }
  await store.close();
}

export async function runCommandsBench(): Promise<Figure[]> {
  const scratch = await createScratchDatabase('yeyak_bench_cmd', (m) => console.log(`[bench] ${m}`));
  const { url } = scratch;
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => figures.push({ name, value, unit });
  const store = await createEventStore({ databaseUrl: url, hmacKey: 'bench-key-at-least-16-bytes', maxConnections: 20 });
  try {
    const deps: CommandDeps = { store, clock: () => NOW };

    // 1. Booking latency, one writer, no contention.
    const clinicId = 'bench-clinic';
    await registerTestClinic(deps, clinicId, { slotCapacity: 2 });
    const days = weekdays();
    const latencies: number[] = [];
    const bookedIds: Array<{ reservationId: string; patientId: string }> = [];
    const deadline = performance.now() + SECONDS * 1000;
    for (let day = days.next().value!; performance.now() < deadline; day = days.next().value!) {
      for (const slot of SLOTS) {
        const input = booking(clinicId, day, slot);
        const t0 = performance.now();
        await bookReservation(deps, input, meta(clinicId, input.patientId));
        latencies.push(performance.now() - t0);
        bookedIds.push({ reservationId: input.reservationId, patientId: input.patientId });
      }
    }
    add('command_book_p50_ms', round(percentile(latencies, 50), 2), 'ms');
    add('command_book_p99_ms', round(percentile(latencies, 99), 2), 'ms');
    add('command_book_samples', latencies.length, 'bookings');

    // 2. A single-stream command (cancel), for comparison.
    const cancels: number[] = [];
    for (const { reservationId, patientId } of bookedIds.slice(0, Math.min(bookedIds.length, 300))) {
      const t0 = performance.now();
      await cancelReservation(deps, { reservationId, by: 'patient', reason: 'bench' }, meta(clinicId, patientId));
      cancels.push(performance.now() - t0);
    }
    add('command_cancel_p50_ms', round(percentile(cancels, 50), 2), 'ms');
    add('command_cancel_p99_ms', round(percentile(cancels, 99), 2), 'ms');

    // 3. Hot day: 16 writers, one clinic day, 192 bookings filling every slot exactly. Measured as the
    //    handlers run (per-stream queue and stream cache on), and without either (every writer races on
    //    the expected revision and reloads the whole day on each attempt) to show what they are for.
    const hotDay = async (variant: CommandDeps, rounds: number, label: string) => {
      // One unmeasured round first: a web server that has been up a while runs compiled code, and the
      // first rounds of a fresh process measure the JIT warming up (seen: 310 → 650 bookings/s over 5 rounds).
      // (Not for the unqueued variant: its point is the races, and a round of it takes ~10 s.)
      if (variant.serialize !== false) {
        await registerTestClinic(variant, `bench-hot-${label}-warm-up`, { slotCapacity: CAPACITY });
        await bookHotDay(variant, `bench-hot-${label}-warm-up`, { part: 0, parts: 1 }, emptyTally());
      }
      const tally = emptyTally();
      let elapsedMs = 0;
      for (let r = 0; r < rounds; r++) {
        const hotClinic = `bench-hot-${label}-${r}`;
        await registerTestClinic(variant, hotClinic, { slotCapacity: CAPACITY });
        const t0 = performance.now();
        await bookHotDay(variant, hotClinic, { part: 0, parts: 1 }, tally);
        elapsedMs += performance.now() - t0;
      }
      const { booked, conflicts, refused, holdAttempts, latencies: hotLatencies } = tally;
      const suffix = label === 'default' ? '' : `_${label}`;
      add(`hot_day_bookings_per_s${suffix}`, round((booked / elapsedMs) * 1000, 1), 'bookings/s');
      add(`hot_day_booking_p50_ms${suffix}`, round(percentile(hotLatencies, 50), 2), 'ms');
      add(`hot_day_booking_p99_ms${suffix}`, round(percentile(hotLatencies, 99), 2), 'ms');
      add(`hot_day_hold_attempts_mean${suffix}`, round(holdAttempts.reduce((a, b) => a + b, 0) / Math.max(1, holdAttempts.length), 2), 'attempts');
      add(`hot_day_hold_attempts_max${suffix}`, Math.max(0, ...holdAttempts), 'attempts');
      add(`hot_day_concurrency_conflicts${suffix}`, conflicts, `of ${rounds * plan_length(CAPACITY)} bookings`);
      add(`hot_day_slot_full_refusals${suffix}`, refused, 'bookings');
    };
    const plan_length = (capacity: number) => SLOTS.length * capacity;
    await hotDay(deps, HOT_DAY_ROUNDS, 'default');
    await hotDay({ ...deps, serialize: false, streamCache: false }, 1, 'unqueued_uncached');
    figures.push(...(await hotDayTwoProcesses(deps, url)));

    // 4. The CRUD baseline (bench/crud.ts) with the same workloads, on a scratch database of its own.
    const crud = await runCrudBaseline({ seconds: SECONDS, rounds: HOT_DAY_ROUNDS, writers: WRITERS, capacity: CAPACITY });
    figures.push(...crud.figures);
    const valueOf = (name: string) => figures.find((f) => f.name === name)?.value ?? NaN;
    add('hot_day_ratio_to_crud', round(valueOf('hot_day_bookings_per_s') / valueOf('crud_hot_day_bookings_per_s'), 2), 'ratio');
    add('command_book_p99_ratio_to_crud', round(valueOf('command_book_p99_ms') / valueOf('crud_book_p99_ms'), 2), 'ratio');

    const machine = await benchMachine(scratch, {
      secondsPerScenario: SECONDS,
      hotDayRounds: HOT_DAY_ROUNDS,
      hotDayWriters: WRITERS,
      crudLoadAverage1m: crud.machine.loadAverage1m,
    });
    printTable('Commands (PostgreSQL event store)', figures);
    const file = writeResult('commands', { machine, figures });
    console.log(`\n[bench] wrote ${file}`);
    return figures;
  } finally {
    await store.close();
    await scratch.drop();
  }
}

if (isMain(import.meta.url)) {
  (process.env.HOT_DAY_CHILD ? hotDayChild() : runCommandsBench()).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
