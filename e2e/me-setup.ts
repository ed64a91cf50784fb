/**
 * Set-up for e2e/me.spec.ts: a clinic of the test's own (open around the clock, so a slot inside the
 * late-cancellation window exists whenever the suite runs) and reservations made through the real
 * command layer against the run's database, paid through the sandbox gateway as the checkout does,
 * with the running worker doing the rest (deposit request, confirmation, refunds). No table is
 * written directly; the database is only read (ids, what the worker has projected, event counts).
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import {
  bookReservation,
  commandMetadata,
  confirmDeposit,
  depositPaymentId,
  listTreatment,
  registerClinic,
  startDepositAttempt,
  SYSTEM_ACTOR,
  type CommandDeps,
} from '../lib/commands';
import { connect, type Database } from '../lib/db/client';
import { atLocal, clinicDay, plusMinutes } from '../lib/domain';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';

export const POLICY = { freeCancellationHours: 48, lateCancellationFeeKrw: 20_000, noShowForfeitsDeposit: true, minimumNoticeHours: 1 };
export const DEPOSIT = 50_000;

export interface MeWorld {
  database: Database;
  store: EventStore;
  deps: CommandDeps;
  clinicId: string;
  /** Pay and book, deposit 50,000. */
  treatmentId: string;
  /** Consult first, no deposit. */
  consultId: string;
  close(): Promise<void>;
}

export async function openWorld(): Promise<MeWorld> {
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
  if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  const database = connect(url, { max: 4 });
  const store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-me' });
  const deps = commandDepsFor(database.sql, store, masterKey);
  const clinicId = `e2e-me-${randomBytes(3).toString('hex')}`;
  // Treatment ids are global in the catalogue: this run's clinic has its own.
  const treatmentId = `${clinicId}-toning`;
  const consultId = `${clinicId}-consult`;
  const setup = (step: string) => commandMetadata({ actor: SYSTEM_ACTOR, clinicId, commandId: `${clinicId}/${step}` });
  await registerClinic(
    deps,
    {
      clinicId,
      name: '미 테스트 피부과',
      // Open every day around the clock: there is always a slot inside the 48-hour window.
      openingHours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, opens: '00:00', closes: '24:00' })),
      slotLengthMinutes: 30,
      slotCapacity: 2,
      policy: POLICY,
      profile: { nameEn: 'Me Test Skin Clinic', district: 'Gangnam-gu', address: '서울 강남구 테헤란로 1', phone: '02-555-0100' },
    },
    setup('register'),
  );
  await listTreatment(
    deps,
    { clinicId, treatmentId, name: '레이저 토닝', nameEn: 'Laser toning', category: 'laser', priceKrw: 110_000, durationMinutes: 30, depositKrw: DEPOSIT, bookingMode: 'instant', bookingKinds: ['pay-and-book'] },
    setup('treatment'),
  );
  await listTreatment(
    deps,
    { clinicId, treatmentId: consultId, name: '피부 상담', nameEn: 'Skin consultation', category: 'consultation', priceKrw: 30_000, durationMinutes: 30, depositKrw: 0, bookingMode: 'instant', bookingKinds: ['consult-first'], consultDurationMinutes: 30 },
    setup('consult'),
  );
  return {
    database,
    store,
    deps,
    clinicId,
    treatmentId,
    consultId,
    close: async () => {
      await store.close();
      await database.close();
    },
  };
}

export async function patientIdOf(w: MeWorld, email: string): Promise<string> {
  const [row] = await w.database.sql<{ id: string }[]>`select id from users where lower(email) = ${email.toLowerCase()}`;
  if (!row) throw new Error(`no account ${email}`);
  return row.id;
}

const patientMeta = (w: MeWorld, patientId: string) => commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId: w.clinicId, ip: '127.0.0.1', userAgent: 'e2e set-up' });

/** A start on the 30-minute grid at least `hoursAhead` from now. */
export function startAfter(hoursAhead: number): string {
  const at = plusMinutes(new Date(), hoursAhead * 60);
  const day = clinicDay(at);
  for (let m = 0; m < 48 * 30; m += 30) {
    const hh = String(Math.floor(m / 60)).padStart(2, '0');
    const mm = String(m % 60).padStart(2, '0');
    const start = atLocal(day, `${hh}:${mm}`);
    if (start.getTime() >= at.getTime()) return start.toISOString();
  }
  return atLocal(clinicDay(plusMinutes(at, 24 * 60)), '00:00').toISOString();
}

/** A start at `time` (Seoul) `days` days from today. */
export function startOn(days: number, time: string): string {
  return atLocal(clinicDay(plusMinutes(new Date(), days * 24 * 60)), time).toISOString();
}

export async function book(w: MeWorld, patientId: string, kind: 'consult-first' | 'pay-and-book', startsAt: string): Promise<string> {
  const reservationId = `rsv-e2e-${randomBytes(5).toString('hex')}`;
  await bookReservation(w.deps, { reservationId, clinicId: w.clinicId, patientId, treatmentId: kind === 'pay-and-book' ? w.treatmentId : w.consultId, kind, startsAt }, patientMeta(w, patientId));
  return reservationId;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Pays the deposit the worker requested, with the sandbox's approving card, as the checkout does; waits until it is projected. */
export async function payDeposit(w: MeWorld, patientId: string, reservationId: string): Promise<void> {
  const paymentId = depositPaymentId(reservationId);
  await until('the deposit request', async () => {
    const [row] = await w.database.sql`select 1 from rm_payments where id = ${paymentId}`;
    return row ? true : undefined;
  });
  const meta = patientMeta(w, patientId);
  const attempt = await startDepositAttempt(w.deps, { paymentId, cardNumber: '4242 4242 4242 4242' }, meta);
  await confirmDeposit(w.deps, { paymentKey: attempt.paymentKey, orderId: attempt.orderId, amount: attempt.amount }, meta);
  await until('the deposit to be recorded on the reservation', async () => {
    const [row] = await w.database.sql<{ paid: number; status: string }[]>`select deposit_paid_krw as paid, status from rm_reservations where id = ${reservationId}`;
    return row && row.paid >= DEPOSIT && row.status === 'confirmed' ? true : undefined;
  });
}

/** Waits until the reservations read model has the reservation (booked through the command layer). */
export async function projected(w: MeWorld, reservationId: string): Promise<void> {
  await until('the reservation to be projected', async () => {
    const [row] = await w.database.sql`select 1 from rm_reservations where id = ${reservationId}`;
    return row ? true : undefined;
  });
}

/** Every event in the store, counted on the table itself (exact at once, unlike readAll). */
export async function eventCount(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select count(*)::text as n from es_events`;
  return Number(row!.n);
}
