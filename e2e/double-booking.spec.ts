/**
 * Double booking across processes (issue 13): two web server processes — the e2e server (with the one
 * worker) and a second `scripts/web-server.ts` started here on the same build and database — take 500
 * concurrent booking requests over HTTP from 500 signed-in patients for 20 slots of one clinic day,
 * each posted as the browser posts the booking form: the real server action (its id from the build's
 * server-reference manifest), a Next-Action request with the form encoded as React encodes a reply.
 * Every answer is a booking (redirect to the reservation) or the domain's "slot full"
 * (schedule.slot_over_capacity); never a 500 or another error. Afterwards no slot holds more than its
 * capacity, neither in the event store's schedule stream (folded with the domain's evolve) nor in
 * the read model, and exactly capacity × 20 bookings went through.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { demoClinics } from '../lib/db/demo-data';
import { atLocal, clinic as clinicDomain, schedule } from '../lib/domain';
import { waitForProjections } from '../lib/projections/wait';
import { bookActionId, postBooking, sessionCookieOf } from '../scripts/lib/book-over-http';
import { database, slotOn } from './booking-helpers';

const REQUESTS = 500;
const SLOTS = 20;
const CLINIC = demoClinics.find((c) => c.id === 'sinsa-clear')!;
const TREATMENT = 'sinsa-clear-acne';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('500 concurrent bookings over two web processes for 20 slots: none over capacity, every refusal "slot full"', async () => {
  test.setTimeout(300_000);
  const sql = database();
  let second: ChildProcess | undefined;
  try {
    // A day no other spec books (they stay within 60 days) with 20 slots: a weekday (Saturdays and Sundays are shorter).
    const facts0 = { openingHours: CLINIC.openingHours as unknown as clinicDomain.OpeningHours, slotLengthMinutes: CLINIC.slotMinutes, slotCapacity: CLINIC.slotCapacity, policy: { minimumNoticeHours: 0 } } as never;
    let offset = 60;
    while (clinicDomain.slotStartsOn(facts0, slotOn(CLINIC, offset).day).length < SLOTS && offset < 75) offset++;
    const day = slotOn(CLINIC, offset).day;
    const starts = clinicDomain.slotStartsOn(facts0, day).slice(0, SLOTS);
    expect(starts).toHaveLength(SLOTS);
    const [facts] = await sql<{ capacity: number; minutes: number }[]>`select slot_capacity as capacity, slot_minutes as minutes from rm_schedule_clinics where clinic_id = ${CLINIC.id}`;
    expect(facts, 'the clinic is in the schedule read model').toBeDefined();
    const capacity = facts!.capacity;
    expect(REQUESTS).toBeGreaterThan(capacity * SLOTS);

    // 500 patient accounts (rows as registration leaves them, verified), each with a session cookie as sign-in sets it.
    const run = randomUUID().slice(0, 8);
    const patients = Array.from({ length: REQUESTS }, (_, i) => ({ id: randomUUID(), email: `storm-${run}-${i}@load.example`, name: `Storm ${i}` }));
    await sql`insert into users ${sql(patients.map((p) => ({ ...p, role: 'patient', password_hash: 'not-a-real-hash' })))}`;
    const cookies = await Promise.all(patients.map((p) => sessionCookieOf({ ...p, role: 'patient', clinicId: null }, process.env.AUTH_SECRET!)));

    // The second web process: the same build and database; the e2e server's worker is the only worker.
    const port = await freePort();
    const servers = [`http://127.0.0.1:${process.env.E2E_PORT ?? 3100}`, `http://127.0.0.1:${port}`];
    second = spawn(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/web-server.ts'], {
      env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, PORT: String(port), SERVE_HOST: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    second.stdout!.on('data', (d) => (output += d));
    second.stderr!.on('data', (d) => (output += d));
    await expect
      .poll(async () => (await fetch(`${servers[1]}/signin`).then((r) => r.status, () => 0)), { timeout: 90_000, message: `the second web process did not come up: ${output}` })
      .toBe(200);

    const id = bookActionId();
    const started = Date.now();
    const answers = await Promise.all(
      patients.map(async (_p, i) => {
        const a = await postBooking(servers[i % servers.length]!, cookies[i]!, id, {
          clinicId: CLINIC.id,
          treatmentId: TREATMENT,
          kind: 'consult-first',
          startsAt: atLocal(day, starts[i % SLOTS]!).toISOString(),
          commandId: randomUUID(),
        });
        return { ms: Math.round(a.ms), status: a.status, booked: a.reservationId !== null, full: a.slotFull, other: a.other };
      }),
    );
    const took = Date.now() - started;
    const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
    // For the record (docs/commands.md): not asserted, the machine is shared.
    console.log(
      `double booking: ${REQUESTS} requests in ${took} ms over ${servers.length} web processes; ${answers.filter((a) => a.booked).length} booked, ` +
        `${answers.filter((a) => a.full).length} slot full, ${answers.filter((a) => a.other).length} other; latency p50 ${ms[Math.floor(ms.length / 2)]} ms, p99 ${ms[Math.floor(ms.length * 0.99)]} ms`,
    );

    expect(answers.filter((a) => a.status >= 500), 'no 500s').toEqual([]);
    expect(answers.filter((a) => a.other).map((a) => a.other), 'every answer is a booking or "slot full"').toEqual([]);
    const booked = answers.filter((a) => a.booked).length;
    expect(booked, 'each of the 20 slots filled exactly').toBe(capacity * SLOTS);
    expect(answers.filter((a) => a.full).length).toBe(REQUESTS - capacity * SLOTS);

    // The event store: the clinic day's schedule stream folded with the domain's evolve.
    const events = await sql<{ type: string; data: unknown }[]>`select type, data from es_events where stream_id = ${`schedule-${CLINIC.id}-${day}`} order by revision`;
    const state = events.reduce((s, e) => schedule.evolveSchedule(s, { type: e.type, data: e.data } as schedule.ScheduleEvent), schedule.initialScheduleState());
    const now = new Date();
    const held = starts.map((start) => {
      const [h, m] = start.split(':').map(Number) as [number, number];
      return schedule.heldCount(state, h * 60 + m, facts!.minutes, now);
    });
    expect(held, 'live holds per slot in the event store').toEqual(starts.map(() => capacity));
    expect(Object.values(state.holds).every((h) => h.confirmed), 'every hold confirmed (a booking went through)').toBe(true);
    const [reservations] = await sql<{ n: number }[]>`
      select count(*)::int as n from es_events e where e.type = 'ReservationRequested' and e.data->>'clinicId' = ${CLINIC.id}
        and e.data->>'patientId' in ${sql(patients.map((p) => p.id))}`;
    expect(reservations!.n, 'one reservation per booking').toBe(booked);

    // The read model, once the worker has caught up: the same counts, none over capacity.
    await expect
      .poll(async () => (await sql<{ n: number }[]>`select coalesce(sum(confirmed), 0)::int as n from rm_schedule_slots where clinic_id = ${CLINIC.id} and day = ${day}`)[0]!.n, { timeout: 60_000 })
      .toBe(booked);
    const rows = await sql<{ slot: string; capacity: number; confirmed: number; pending: number }[]>`
      select slot, capacity, confirmed, pending from rm_schedule_slots where clinic_id = ${CLINIC.id} and day = ${day} order by slot`;
    expect(rows.map((r) => [r.slot, r.confirmed + r.pending, r.capacity])).toEqual(starts.map((s) => [s, capacity, capacity]));
    // Every read model past the storm before the next spec reads its figures (the stats page counts today's bookings).
    const [last] = await sql<{ xid: string; position: string }[]>`select xid::text, position::text from es_events order by xid desc, position desc limit 1`;
    expect(await waitForProjections({ commit: BigInt(last!.xid), prepare: BigInt(last!.position) }, { sql, timeoutMs: 120_000 })).toBe('caught-up');
  } finally {
    second?.kill('SIGTERM');
    await sql.end();
  }
});
