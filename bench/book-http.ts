/**
 * The `book` part of the HTTP benchmark (bench/http.ts): signed-in patients booking over HTTP against
 * the production server, each request the booking page's own form post (scripts/lib/book-over-http.ts:
 * the real `bookAction`, Next-Action header, React's reply encoding), answered with the redirect and
 * the reservation page's RSC payload the browser gets.
 *
 * HTTP_BOOK_CLIENTS (default 50) patients, each a registered patient account of its own (users row,
 * RegisterPatient and consent through the commands) with its own session cookie, each posting one
 * booking after another for HTTP_BOOK_SECONDS (default HTTP_SECONDS) after a 3 s warm-up. Every
 * booking takes its own seat: the seats of three demo clinics' slots over the booking horizon
 * (consult-first, instant), in a fixed shuffled order so concurrent bookings land on different clinic
 * days most of the time, as real patients' do (the hot clinic day is bench/commands.ts's figure).
 * Capacity is never the limit: every "slot full" is reported (expected 0).
 *
 * A booking counts only when the redirect names the reservation its command id derives, and after the
 * run every one of them is checked in the event store (ReservationRequested for that patient) and, once
 * the worker has caught up, in the reservations read model.
 */
import { randomUUID } from 'node:crypto';
import { commandMetadata, giveConsent, registerPatient } from '@/lib/commands';
import { connect } from '@/lib/db/client';
import { demoClinics } from '@/lib/db/demo-data';
import { users } from '@/lib/db/schema';
import { atLocal, clinic as clinicDomain, clinicDay, plusMinutes } from '@/lib/domain';
import { createEventStore } from '@/lib/eventstore';
import { waitForProjections } from '@/lib/projections/wait';
import { commandDepsFor } from '@/lib/runtime/command-deps';
import type { Secrets } from '@/lib/runtime/secrets';
import { bookActionId, postBooking, sessionCookieOf, type BookingAnswer, type BookingFields } from '../scripts/lib/book-over-http';
import { percentile, round } from './lib';
import { cpuMs, findScriptProcess, postgresCpuMs } from './rss';

/**
 * Where the benchmark books: consult-first instant treatments (a 15-minute consultation, one seat of
 * a 30-minute slot). Gangnam Glow only from day 35: the /me patient's reservations and the staff day
 * take seats there before.
 */
const PLACES = [
  { clinicId: 'sinsa-clear', treatmentId: 'sinsa-clear-acne', fromDay: 2 },
  { clinicId: 'hongdae-bloom', treatmentId: 'hongdae-bloom-wart-cryo', fromDay: 2 },
  { clinicId: 'gangnam-glow', treatmentId: 'gangnam-glow-botox-forehead', fromDay: 35 },
] as const;
/** Within the clinics' booking horizon (90 days), with a margin for the day changing during a run. */
const LAST_DAY = 85;
const WARM_UP_SECONDS = 3;

type Seat = Omit<BookingFields, 'commandId'>;

/** Every seat of every slot at PLACES over the horizon, shuffled with a fixed seed. */
export function bookingSeats(now = new Date()): Seat[] {
  const seats: Seat[] = [];
  for (const place of PLACES) {
    const c = demoClinics.find((d) => d.id === place.clinicId)!;
    const facts = { openingHours: c.openingHours as unknown as clinicDomain.OpeningHours, slotLengthMinutes: c.slotMinutes, slotCapacity: c.slotCapacity, policy: { minimumNoticeHours: 0 } } as never;
    for (let d = place.fromDay; d <= LAST_DAY; d++) {
      const day = clinicDay(plusMinutes(now, d * 24 * 60));
      for (const time of clinicDomain.slotStartsOn(facts, day)) {
        for (let seat = 0; seat < c.slotCapacity; seat++) seats.push({ clinicId: place.clinicId, treatmentId: place.treatmentId, kind: 'consult-first', startsAt: atLocal(day, time).toISOString() });
      }
    }
  }
  let state = 13;
  const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = seats.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [seats[i], seats[j]] = [seats[j]!, seats[i]!];
  }
  return seats;
}

interface Patient {
  id: string;
  email: string;
  name: string;
  cookie: string;
}

/** `count` patients as registration leaves them (verified), through the commands, each with a session cookie. */
async function registerPatients(server: { databaseUrl: string; secrets: Secrets }, count: number): Promise<Patient[]> {
  const database = connect(server.databaseUrl, { max: 4 });
  const store = await createEventStore({ databaseUrl: server.databaseUrl, hmacKey: server.secrets.EVENT_HMAC_KEY, maxConnections: 4 });
  try {
    const deps = commandDepsFor(database.sql, store, server.secrets.PERSONAL_DATA_MASTER_KEY);
    const run = randomUUID().slice(0, 8);
    const patients = Array.from({ length: count }, (_, i) => ({ id: randomUUID(), email: `booker-${run}-${i}@load.example`, name: `예약자 ${i + 1} Booker ${i + 1}` }));
    await database.db.insert(users).values(patients.map((p) => ({ ...p, role: 'patient' as const, passwordHash: 'not-a-real-hash' })));
    for (const [i, p] of patients.entries()) {
      const meta = (step: string) => commandMetadata({ actor: { id: p.id, role: 'patient' }, commandId: `register-${p.id}/${step}` });
      await registerPatient(deps, { patientId: p.id, name: p.name, email: p.email, phone: `010-7777-${String(1000 + i)}`, birthDate: '1990-01-01', locale: 'ko' }, meta('patient'));
      await giveConsent(deps, { patientId: p.id, purpose: 'personal-data', version: '2026-01' }, meta('consent'));
    }
    return await Promise.all(patients.map(async (p) => ({ ...p, cookie: await sessionCookieOf({ ...p, role: 'patient', clinicId: null }, server.secrets.AUTH_SECRET) })));
  } finally {
    await store.close();
    await database.close();
  }
}

export interface HttpBookingRun {
  clients: number;
  seconds: number;
  /** Answers within the measured window (after the warm-up). */
  requests: number;
  booked: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  slotFull: number;
  /** Booked, but the action's read-your-writes wait ran out (redirect with ?processing=1). */
  processing: number;
  /** Over the whole run (warm-up included): answers neither a booking nor "slot full" (the first few kept in `otherSamples`), plus bookings the checks did not find. */
  errors: number;
  otherSamples: string[];
  /** Bookings of the whole run (warm-up included) checked in the event store and in the read model. */
  verified: number;
  missingInStore: number;
  missingInReadModel: number;
  seatsLeft: number;
  /** CPU time per booking in the measured window: web server, worker, PostgreSQL (every process of the shared server), this load generator. */
  cpuMsPerBooking: Record<string, number>;
}

export async function measureHttpBooking(options: {
  server: { baseUrl: string; databaseUrl: string; secrets: Secrets };
  clients: number;
  seconds: number;
  log: (m: string) => void;
}): Promise<HttpBookingRun> {
  const { server, clients, seconds, log } = options;
  const patients = await registerPatients(server, clients);
  log(`book: ${patients.length} patients registered`);
  const seats = bookingSeats();
  const actionId = bookActionId();
  let next = 0;
  let exhausted = false;
  const all: Array<{ patient: Patient; answer: BookingAnswer; measured: boolean }> = [];

  const drive = async (forMs: number, measured: boolean) => {
    const until = performance.now() + forMs;
    await Promise.all(
      patients.map(async (patient) => {
        while (performance.now() < until) {
          const seat = seats[next++];
          if (!seat) {
            exhausted = true;
            return;
          }
          const answer = await postBooking(server.baseUrl, patient.cookie, actionId, { ...seat, commandId: randomUUID() }).catch(
            (error: unknown): BookingAnswer => ({ status: 0, ms: 0, reservationId: null, processing: false, slotFull: false, other: `request failed: ${String(error)}` }),
          );
          all.push({ patient, answer, measured });
        }
      }),
    );
  };

  log(`book: warming up (${clients} clients, ${WARM_UP_SECONDS} s)…`);
  await drive(WARM_UP_SECONDS * 1000, false);
  log(`book: ${clients} clients for ${seconds} s…`);
  // Where the CPU goes during the measured window: the web server, the worker, PostgreSQL, this load generator.
  const web = findScriptProcess('scripts/web-server.ts')?.main;
  const worker = findScriptProcess('lib/worker/main.ts')?.main;
  const cpu = () => ({ web: web ? (cpuMs(web) ?? 0) : 0, worker: worker ? (cpuMs(worker) ?? 0) : 0, postgres: postgresCpuMs(), client: (process.cpuUsage().user + process.cpuUsage().system) / 1000 });
  const cpuBefore = cpu();
  const started = performance.now();
  await drive(seconds * 1000, true);
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = cpu();
  if (exhausted) log(`book: warning: all ${seats.length} seats taken before the end`);

  const measured = all.filter((a) => a.measured).map((a) => a.answer);
  const ms = measured.map((a) => a.ms);
  const booked = all.filter((a) => a.answer.reservationId);
  const others = all.filter((a) => a.answer.other).map((a) => a.answer.other!);

  // Every booking the answers claim, in the event store (for its patient) and in the read model.
  const database = connect(server.databaseUrl, { max: 2 });
  let missingInStore = 0;
  let missingInReadModel = 0;
  let missingAny = 0;
  try {
    const expected = new Map(booked.map((b) => [b.answer.reservationId!, b.patient.id]));
    const ids = [...expected.keys()];
    const inStore = (await database.sql`
      select data->>'reservationId' as id, data->>'patientId' as patient from es_events
      where type = 'ReservationRequested' and stream_id = any(${ids.map((id) => `reservation-${id}`)})`) as unknown as Array<{ id: string; patient: string }>;
    const found = new Set(inStore.filter((r) => expected.get(r.id) === r.patient).map((r) => r.id));
    missingInStore = ids.filter((id) => !found.has(id)).length;
    const [last] = (await database.sql`select xid::text, position::text from es_events order by xid desc, position desc limit 1`) as unknown as [{ xid: string; position: string }];
    const caughtUp = await waitForProjections({ commit: BigInt(last.xid), prepare: BigInt(last.position) }, { sql: database.sql, timeoutMs: 120_000 });
    if (caughtUp !== 'caught-up') log('book: warning: the read models did not catch up within 120 s');
    const inReadModel = (await database.sql`select id, patient_id from rm_reservations where id = any(${ids})`) as unknown as Array<{ id: string; patient_id: string }>;
    const rows = new Set(inReadModel.filter((r) => expected.get(r.id) === r.patient_id).map((r) => r.id));
    missingInReadModel = ids.filter((id) => !rows.has(id)).length;
    missingAny = ids.filter((id) => !rows.has(id) || !found.has(id)).length;
  } finally {
    await database.close();
  }

  return {
    clients,
    seconds: round(elapsed, 1),
    requests: measured.length,
    booked: measured.filter((a) => a.reservationId).length,
    perSecond: round(measured.filter((a) => a.reservationId).length / elapsed, 1),
    p50: round(percentile(ms, 50), 1),
    p99: round(percentile(ms, 99), 1),
    max: round(Math.max(...ms), 1),
    slotFull: all.filter((a) => a.answer.slotFull).length,
    processing: all.filter((a) => a.answer.processing).length,
    errors: others.length + missingAny,
    otherSamples: [...new Set(others)].slice(0, 5),
    verified: booked.length - missingAny,
    missingInStore,
    missingInReadModel,
    seatsLeft: Math.max(0, seats.length - next),
    cpuMsPerBooking: Object.fromEntries(
      (Object.keys(cpuBefore) as Array<keyof typeof cpuBefore>).map((k) => [k, round((cpuAfter[k] - cpuBefore[k]) / Math.max(1, measured.filter((a) => a.reservationId).length), 1)]),
    ),
  };
}
