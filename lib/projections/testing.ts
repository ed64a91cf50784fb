/**
 * Test and bench helpers: a seeded generator of a realistic, schema-valid event history (clinics,
 * patients with encrypted personal data, bookings, payments, cancellations, visits, erasures), and a
 * snapshot of every read-model table for exact comparisons.
 */
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { EventStore, NewEvent, Position } from '../eventstore';
import { allProjections } from './registry';
import type { Projection } from './types';

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Append {
  stream: string;
  events: Array<Omit<NewEvent, 'metadata'> & { metadata?: Partial<NewEvent['metadata']> }>;
}

interface OpenReservation {
  id: string;
  clinicId: string;
  patientId: string;
  day: string;
  holdId: string;
  slots: string[];
  startsAt: string;
  state: 'requested' | 'confirmed' | 'paid';
  paymentId?: string;
  paid: number;
}

const POLICY = { freeCancellationHours: 24, lateCancellationFeeKrw: 10_000, noShowForfeitsDeposit: true, minimumNoticeHours: 2 };
const HOURS = [1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, opens: '10:00', closes: '19:00' }));

/**
 * Generates appends (one stream each, like command handlers do) totalling at least `events` events.
 * Personal data is plain here; pass `encrypt` to store it as the command layer does.
 */
export function generateHistory(options: { events: number; seed?: number; clinics?: number; idPrefix?: string }): Append[] {
  const rnd = seededRandom(options.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: Append[] = [];
  let count = 0;
  let clock = Date.parse('2026-03-02T00:00:00Z');
  const now = () => new Date((clock += 1000 + Math.floor(rnd() * 60_000))).toISOString();
  const push = (stream: string, events: Append['events'], actor = { id: 'staff-1', role: 'staff' }, clinicId?: string) => {
    const occurredAt = now();
    const correlationId = `c-${out.length}`;
    out.push({ stream, events: events.map((e) => ({ ...e, metadata: { actor, occurredAt, correlationId, clinicId: clinicId ?? null, ...e.metadata } })) });
    count += events.length;
  };
  const clinics: Array<{ id: string; treatments: Array<{ id: string; price: number; deposit: number }> }> = [];
  for (let c = 0; c < (options.clinics ?? 3); c++) {
    const id = `clinic${c}`;
    const treatments = [0, 1, 2].map((t) => ({ id: `${id}-t${t}`, price: 50_000 + 10_000 * t, deposit: 10_000 * (t + 1) }));
    push(`clinic-${id}`, [
      {
        type: 'ClinicRegistered',
        schemaVersion: 1,
        data: { clinicId: id, name: `클리닉 ${c}`, openingHours: HOURS, slotLengthMinutes: 30, slotCapacity: 3, policy: POLICY, profile: { nameEn: `Clinic ${c}`, district: 'Gangnam-gu' } },
      },
      ...treatments.map((t) => ({
        type: 'TreatmentListed',
        schemaVersion: 2,
        data: { treatmentId: t.id, name: `시술 ${t.id}`, category: 'skin', priceKrw: t.price, durationMinutes: 30, depositKrw: t.deposit, bookingMode: 'instant' },
      })),
    ], { id: 'admin-1', role: 'admin' }, id);
    clinics.push({ id, treatments });
  }
  const patients: string[] = [];
  const open: OpenReservation[] = [];
  let seq = 0;
  const uid = (p: string) => `${options.idPrefix ?? ''}${p}${++seq}`;
  while (count < options.events) {
    const r = rnd();
    if (patients.length < 3 || r < 0.12) {
      const id = uid('p');
      patients.push(id);
      push(
        `patient-${id}`,
        [
          { type: 'PatientRegistered', schemaVersion: 2, data: { patientId: id, locale: 'ko', personal: { kind: 'plain', value: { name: `환자${id}`, phone: `010-1234-${String(seq % 10000).padStart(4, '0')}`, birthDate: '1990-01-01' } } } },
          { type: 'ConsentGiven', schemaVersion: 1, data: { patientId: id, purpose: 'personal-data', version: 'v1', at: new Date(clock).toISOString() } },
        ],
        { id, role: 'patient' },
      );
    } else if (r < 0.45) {
      const clinic = pick(clinics);
      const treatment = pick(clinic.treatments);
      const patientId = pick(patients);
      const id = uid('r');
      const holdId = uid('h');
      const day = `2026-04-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
      const hour = 10 + Math.floor(rnd() * 8);
      const slot = `${String(hour).padStart(2, '0')}:${rnd() < 0.5 ? '00' : '30'}`;
      const startsAt = new Date(`${day}T${slot}:00+09:00`).toISOString();
      const endsAt = new Date(Date.parse(startsAt) + 30 * 60_000).toISOString();
      const actor = { id: patientId, role: 'patient' };
      push(`schedule-${clinic.id}-${day}`, [
        { type: 'SlotHeld', schemaVersion: 1, data: { clinicId: clinic.id, day, holdId, reservationId: id, startsAt, endsAt, slots: [slot], slotLengthMinutes: 30, expiresAt: new Date(clock + 15 * 60_000).toISOString() } },
      ], actor, clinic.id);
      push(`reservation-${id}`, [
        {
          type: 'ReservationRequested',
          schemaVersion: 2,
          data: {
            reservationId: id, clinicId: clinic.id, patientId, treatmentId: treatment.id, treatmentName: `시술 ${treatment.id}`, kind: 'pay-and-book',
            startsAt, endsAt, day, holdId, priceKrw: treatment.price, depositDueKrw: treatment.deposit, bookingMode: 'instant', policy: POLICY,
          },
        },
      ], actor, clinic.id);
      push(`schedule-${clinic.id}-${day}`, [{ type: 'HoldConfirmed', schemaVersion: 1, data: { holdId, reservationId: id } }], { id: 'system', role: 'system' }, clinic.id);
      open.push({ id, clinicId: clinic.id, patientId, day, holdId, slots: [slot], startsAt, state: 'requested', paid: 0 });
    } else if (r < 0.65 && open.some((o) => o.state === 'requested')) {
      const res = pick(open.filter((o) => o.state === 'requested'));
      const paymentId = uid('pay');
      const amount = 10_000 + 10_000 * Math.floor(rnd() * 3);
      push(`payment-${paymentId}`, [
        { type: 'PaymentRequested', schemaVersion: 1, data: { paymentId, clinicId: res.clinicId, patientId: res.patientId, purpose: 'deposit', reservationId: res.id, amountKrw: amount, vatKrw: Math.round((amount * 10) / 110) } },
        { type: 'PaymentAuthorized', schemaVersion: 1, data: { paymentId, provider: 'toss', providerRef: `ref-${paymentId}`, amountKrw: amount } },
        { type: 'PaymentCaptured', schemaVersion: 1, data: { paymentId, amountKrw: amount } },
      ], { id: 'staff-2', role: 'staff' }, res.clinicId);
      push(`reservation-${res.id}`, [
        { type: 'ReservationDepositPaid', schemaVersion: 1, data: { reservationId: res.id, paymentId, amountKrw: amount, depositPaidKrw: amount } },
        { type: 'ReservationConfirmed', schemaVersion: 1, data: { reservationId: res.id, by: 'system' } },
      ], { id: 'system', role: 'system' }, res.clinicId);
      res.state = 'paid';
      res.paymentId = paymentId;
      res.paid = amount;
    } else if (r < 0.75 && open.length > 0) {
      const res = pick(open);
      open.splice(open.indexOf(res), 1);
      const late = rnd() < 0.3;
      const fee = late ? Math.min(10_000, res.paid) : 0;
      const refund = Math.max(0, res.paid - fee);
      push(`reservation-${res.id}`, [
        { type: 'ReservationCancelled', schemaVersion: 1, data: { reservationId: res.id, by: 'patient', reason: 'changed plans', late, feeKrw: late ? 10_000 : 0, refundDueKrw: refund, day: res.day, holdId: res.holdId } },
      ], { id: res.patientId, role: 'patient' }, res.clinicId);
      push(`schedule-${res.clinicId}-${res.day}`, [{ type: 'SlotReleased', schemaVersion: 1, data: { holdId: res.holdId, reservationId: res.id, slots: res.slots, reason: 'cancelled' } }], { id: 'system', role: 'system' }, res.clinicId);
      if (refund > 0 && res.paymentId) {
        push(`payment-${res.paymentId}`, [
          { type: 'PaymentRefunded', schemaVersion: 1, data: { paymentId: res.paymentId, refundId: uid('rf'), amountKrw: refund, reason: 'cancelled', refundedKrw: refund, full: refund === res.paid } },
        ], { id: 'system', role: 'system' }, res.clinicId);
      }
    } else if (r < 0.8 && open.some((o) => o.state === 'paid')) {
      const res = pick(open.filter((o) => o.state === 'paid'));
      open.splice(open.indexOf(res), 1);
      push(`reservation-${res.id}`, [
        { type: 'NoShowRecorded', schemaVersion: 1, data: { reservationId: res.id, staffId: 'staff-1', depositForfeitedKrw: res.paid, refundDueKrw: 0 } },
      ], { id: 'staff-1', role: 'staff' }, res.clinicId);
    } else if (r < 0.97 && open.some((o) => o.state === 'paid')) {
      const res = pick(open.filter((o) => o.state === 'paid'));
      open.splice(open.indexOf(res), 1);
      const visitId = uid('v');
      const at = () => new Date(clock).toISOString();
      const clinic = clinics.find((c) => c.id === res.clinicId)!;
      const t = pick(clinic.treatments);
      const staff = { id: 'staff-3', role: 'staff' };
      push(`reservation-${res.id}`, [{ type: 'ReservationCheckedIn', schemaVersion: 1, data: { reservationId: res.id, visitId, at: at() } }], staff, res.clinicId);
      push(`visit-${visitId}`, [{ type: 'PatientArrived', schemaVersion: 1, data: { visitId, clinicId: res.clinicId, patientId: res.patientId, reservationId: res.id, at: at() } }], staff, res.clinicId);
      push(`visit-${visitId}`, [{ type: 'ConsultationStarted', schemaVersion: 1, data: { visitId, at: at(), staffId: 'staff-3' } }], staff, res.clinicId);
      push(`visit-${visitId}`, [
        { type: 'TreatmentAdded', schemaVersion: 1, data: { visitId, lineId: uid('l'), treatmentId: t.id, treatmentName: `시술 ${t.id}`, unitPriceKrw: t.price, quantity: 1, priceKrw: t.price, at: at(), staffId: 'staff-3' } },
      ], staff, res.clinicId);
      push(`visit-${visitId}`, [{ type: 'ProcedureStarted', schemaVersion: 1, data: { visitId, at: at(), staffId: 'staff-4' } }], staff, res.clinicId);
      if (rnd() < 0.3) {
        push(`visit-${visitId}`, [{ type: 'VisitStageReverted', schemaVersion: 1, data: { visitId, from: 'procedure', to: 'consultation', reason: 'wrong button', staffId: 'staff-4', at: at() } }], staff, res.clinicId);
        push(`visit-${visitId}`, [{ type: 'ProcedureStarted', schemaVersion: 1, data: { visitId, at: at(), staffId: 'staff-4' } }], staff, res.clinicId);
      }
      push(`visit-${visitId}`, [{ type: 'RecoveryStarted', schemaVersion: 1, data: { visitId, at: at(), staffId: 'staff-4' } }], staff, res.clinicId);
      push(`visit-${visitId}`, [{ type: 'PatientDischarged', schemaVersion: 1, data: { visitId, at: at(), staffId: 'staff-3', totalKrw: t.price } }], staff, res.clinicId);
      push(`reservation-${res.id}`, [{ type: 'ReservationCompleted', schemaVersion: 1, data: { reservationId: res.id, visitId } }], staff, res.clinicId);
    } else if (patients.length > 5) {
      const id = pick(patients);
      push(`patient-${id}`, [{ type: 'ContactChanged', schemaVersion: 1, data: { patientId: id, personal: { kind: 'plain', value: { phone: `010-9999-${String(seq % 10000).padStart(4, '0')}` } } } }], { id, role: 'patient' });
    }
  }
  return out;
}

/** The erasure of a patient's data, as the command layer appends it. */
export function erasure(patientId: string, at = '2026-05-01T00:00:00.000Z'): Append {
  return {
    stream: `patient-${patientId}`,
    events: [{ type: 'PatientDataErased', schemaVersion: 1, data: { patientId, requestedBy: 'patient', reason: 'asked', at }, metadata: { actor: { id: patientId, role: 'patient' }, occurredAt: at } }],
  };
}

/** Appends with encryption of personal data (as the command layer does) when `encryptEvent` is given. */
export async function appendAll(
  store: EventStore,
  appends: readonly Append[],
  encryptEvent?: <E extends { type: string; data: unknown }>(event: E) => Promise<E>,
): Promise<Position | undefined> {
  let last: Position | undefined;
  for (const a of appends) last = (await appendOne(store, a, encryptEvent)).position;
  return last;
}

export async function appendOne(
  store: EventStore,
  a: Append,
  encryptEvent?: <E extends { type: string; data: unknown }>(event: E) => Promise<E>,
) {
  const events: NewEvent[] = [];
  for (const e of a.events) {
    const enc = encryptEvent ? await encryptEvent(e) : e;
    events.push({ ...enc, metadata: { actor: { id: 'system', role: 'system' }, occurredAt: new Date().toISOString(), ...enc.metadata } } as NewEvent);
  }
  return store.append(a.stream, events, { expectedRevision: 'any' });
}

/** Every table of the given projections (revision tables included), in a stable order, as JSON text. */
export async function snapshotReadModels(sql: postgres.Sql, projections: readonly Projection[] = allProjections): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of projections) {
    for (const table of [...p.tables.map((t) => t.table), p.revisions as PgTable]) {
      const name = getTableConfig(table).name;
      const rows = await sql.unsafe(`select coalesce(jsonb_agg(to_jsonb(t) order by to_jsonb(t)::text), '[]'::jsonb)::text as rows from "${name}" t`);
      out[name] = (rows[0] as unknown as { rows: string }).rows;
    }
  }
  return out;
}
