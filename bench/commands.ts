/**
 * Command-side benchmark (not a test): part of `npm run bench`, alone with `npx tsx bench/commands.ts`.
 *
 * On a fresh, migrated database of its own (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded
 * PostgreSQL under .data/):
 * - command_book_p50_ms / p99: one writer booking (bookReservation: load the clinic, hold on the
 *   clinic day with its expected revision, record the reservation, confirm the hold — three
 *   load-decide-append cycles) on uncontended clinic days, 16 bookings a day (realistic stream lengths);
 * - hot_day_bookings_per_s: 16 writers booking the same clinic day at once (16 slots × capacity 12 =
 *   192 bookings, every slot filled exactly), so every hold and hold confirmation races the others on one
 *   stream; with the attempts the holds took and the ConcurrencyConflicts left after the retry budget;
 * - the same hot day without the per-stream command queue and stream cache (`_unqueued_uncached`), to show
 *   what they are for;
 * - command_cancel_p50_ms: a single-stream command (load, decide, append) for comparison.
 * - the CRUD baseline's figures (bench/crud.ts: the same workloads as plain tables and one transaction per
 *   booking), and hot_day_ratio_to_crud, command_book_p99_ratio_to_crud (ours over CRUD's).
 * Prints a table and writes bench/results/commands.json. Env: BENCH_SECONDS (default 4), HOT_DAY_ROUNDS (default 3).
 */
import { randomUUID } from 'node:crypto';
import { createEventStore } from '@/lib/eventstore';
import { createScratchDatabase } from '@/lib/db/scratch';
import { atLocal, timeOfMinutes } from '@/lib/domain';
import { bookReservation, cancelReservation, commandMetadata, ConcurrencyConflict, type CommandDeps } from '@/lib/commands';
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
const booking = (clinicId: string, day: string, slot: string) => ({
  reservationId: `r-${randomUUID()}`,
  clinicId,
  patientId: `p-${randomUUID()}`,
  treatmentId: 'tx-consult',
  kind: 'consult-first' as const,
  startsAt: atLocal(day, slot).toISOString(),
});

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
    const CAPACITY = 12;
    const WRITERS = 16;
    const hotDay = async (variant: CommandDeps, rounds: number, label: string) => {
      let booked = 0;
      let elapsedMs = 0;
      let conflicts = 0;
      let refused = 0;
      const holdAttempts: number[] = [];
      const hotLatencies: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const hotClinic = `bench-hot-${label}-${r}`;
        await registerTestClinic(variant, hotClinic, { slotCapacity: CAPACITY });
        const day = '2025-03-05';
        const plan = Array.from({ length: SLOTS.length * CAPACITY }, (_, k) => SLOTS[k % SLOTS.length]!);
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            for (let k = w; k < plan.length; k += WRITERS) {
              const s0 = performance.now();
              try {
                const input = booking(hotClinic, day, plan[k]!);
                const result = await bookReservation(variant, input, meta(hotClinic, input.patientId));
                booked++;
                holdAttempts.push(result.holdAttempts);
                hotLatencies.push(performance.now() - s0);
              } catch (error) {
                if (error instanceof ConcurrencyConflict) conflicts++;
                else if ((error as { code?: string }).code === 'schedule.slot_over_capacity') refused++;
                else throw error;
              }
            }
          }),
        );
        elapsedMs += performance.now() - t0;
      }
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
  runCommandsBench().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
