import { eq } from 'drizzle-orm';
import type { patient, reservation } from '../../domain';
import type { PersonalField } from '../../domain/patient/personal';
import { RowCache } from '../rows';
import { rmReservations, rmrevReservations, type ReservationTimelineEntry } from '../schema';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';

type Row = typeof rmReservations.$inferSelect;
type E = reservation.ReservationEvent;

function depositStatus(row: Pick<Row, 'depositDueKrw' | 'depositPaidKrw'>): string {
  if (row.depositDueKrw === 0 && row.depositPaidKrw === 0) return 'none';
  if (row.depositPaidKrw === 0) return 'due';
  return row.depositPaidKrw < row.depositDueKrw ? 'partially-paid' : 'paid';
}

/** The note in a ReservationRequested's personal field (decrypted by the runner), or why there is none to show. */
function noteOf(personal: PersonalField | undefined): { note: string | null; noteErased: boolean } {
  if (!personal) return { note: null, noteErased: false };
  if (personal.kind === 'plain') return { note: personal.value.note ?? null, noteErased: false };
  // Erased, or still encrypted (no vault configured): never shown.
  return { note: null, noteErased: personal.kind === 'erased' };
}

/** The timeline entry of one reservation event (what the patient's pages show; no free text). */
function timelineEntry(e: E, at: string, actorRole: string | undefined): ReservationTimelineEntry {
  switch (e.type) {
    case 'ReservationRequested':
      return { type: 'requested', at, by: actorRole, startsAt: e.data.startsAt };
    case 'ReservationConfirmed':
      return { type: 'confirmed', at, by: e.data.by };
    case 'ReservationRejected':
      return { type: 'rejected', at, by: 'staff', refundDueKrw: e.data.refundDueKrw };
    case 'ReservationDepositPaid':
      return { type: 'deposit-paid', at, amountKrw: e.data.amountKrw };
    case 'ReservationRescheduled':
      return { type: 'rescheduled', at, by: e.data.by, previousStartsAt: e.data.previousStartsAt, startsAt: e.data.startsAt, feeKrw: e.data.lateFeeKrw };
    case 'ReservationCancelled':
      return { type: 'cancelled', at, by: e.data.by, feeKrw: e.data.feeKrw, refundDueKrw: e.data.refundDueKrw };
    case 'NoShowRecorded':
      return { type: 'no-show', at, by: 'staff', amountKrw: e.data.depositForfeitedKrw, refundDueKrw: e.data.refundDueKrw };
    case 'ReservationCheckedIn':
      return { type: 'checked-in', at: e.data.at };
    case 'ReservationCompleted':
      return { type: 'completed', at };
  }
}

/** One row per reservation: patient, clinic, treatment, slot, status, deposit, frozen policy, timeline. */
export const reservationsProjection: Projection = {
  name: 'reservations',
  // v2: the timeline column. v3: the note is the patient's personal data (ReservationRequested v3),
  // erased with them (rebuilt so notes of patients erased before this version read as erased too).
  version: 3,
  streams: ['reservation-', 'patient-'],
  eventTypes: [
    'ReservationRequested',
    'ReservationConfirmed',
    'ReservationRejected',
    'ReservationDepositPaid',
    'ReservationRescheduled',
    'ReservationCancelled',
    'NoShowRecorded',
    'ReservationCheckedIn',
    'ReservationCompleted',
    'PatientDataErased',
  ],
  revisions: rmrevReservations,
  tables: [{ table: rmReservations }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const rows = new RowCache<Row>(rmReservations, 'id');
    await rows.load(
      tx,
      events.flatMap((e) => (e.domain!.type === 'PatientDataErased' ? [] : [(e.domain!.data as { reservationId: string }).reservationId])),
    );
    for (const { recorded, domain } of events) {
      if (domain!.type === 'PatientDataErased') {
        // Crypto-shredding made the patient's notes unreadable in the log; drop them here too.
        const { patientId } = (domain as Extract<patient.PatientEvent, { type: 'PatientDataErased' }>).data;
        const ids = await tx.select({ id: rmReservations.id }).from(rmReservations).where(eq(rmReservations.patientId, patientId));
        await rows.load(tx, ids.map((r) => r.id));
        for (const row of [...rows.loaded()]) {
          if (row.patientId === patientId) rows.update(row.id, { note: null, noteErased: true });
        }
        continue;
      }
      const e = domain as E;
      const at = new Date(recorded.metadata.occurredAt);
      const version = recorded.revision;
      const id = e.data.reservationId;
      const step = timelineEntry(e, recorded.metadata.occurredAt, recorded.metadata.actor?.role);
      if (e.type === 'ReservationRequested') {
        const d = e.data;
        const row: Row = {
          id,
          clinicId: d.clinicId,
          patientId: d.patientId,
          treatmentId: d.treatmentId,
          treatmentName: d.treatmentName,
          kind: d.kind,
          bookingMode: d.bookingMode,
          startsAt: new Date(d.startsAt),
          endsAt: new Date(d.endsAt),
          day: d.day,
          holdId: d.holdId,
          status: 'requested',
          priceKrw: d.priceKrw,
          depositDueKrw: d.depositDueKrw,
          depositPaidKrw: 0,
          depositStatus: '',
          policy: d.policy,
          feesKrw: 0,
          refundDueKrw: 0,
          closedReason: null,
          visitId: null,
          ...noteOf(d.personal),
          requestedAt: at,
          updatedAt: at,
          timeline: [step],
          version,
        };
        row.depositStatus = depositStatus(row);
        rows.put(row);
        continue;
      }
      const row = rows.get(id);
      if (!row) throw new Error(`${e.type} for unknown reservation ${id}`);
      const base = { updatedAt: at, version, timeline: [...row.timeline, step] };
      switch (e.type) {
        case 'ReservationConfirmed':
          rows.update(id, { ...base, status: 'confirmed' });
          break;
        case 'ReservationRejected':
          rows.update(id, {
            ...base,
            status: 'rejected',
            closedReason: e.data.reason,
            refundDueKrw: e.data.refundDueKrw,
            depositStatus: e.data.refundDueKrw > 0 ? 'refund-due' : depositStatus(row),
          });
          break;
        case 'ReservationDepositPaid': {
          const next = { ...row, depositPaidKrw: e.data.depositPaidKrw };
          rows.update(id, { ...base, depositPaidKrw: e.data.depositPaidKrw, depositStatus: depositStatus(next) });
          break;
        }
        case 'ReservationRescheduled':
          rows.update(id, {
            ...base,
            startsAt: new Date(e.data.startsAt),
            endsAt: new Date(e.data.endsAt),
            day: e.data.day,
            holdId: e.data.holdId,
            feesKrw: row.feesKrw + e.data.lateFeeKrw,
            // A patient's move of a clinic-confirmed booking waits for the clinic again.
            ...(e.data.needsClinicConfirmation ? { status: 'requested' as const } : {}),
          });
          break;
        case 'ReservationCancelled':
          rows.update(id, {
            ...base,
            status: 'cancelled',
            closedReason: e.data.reason,
            feesKrw: row.feesKrw + e.data.feeKrw,
            refundDueKrw: e.data.refundDueKrw,
            depositStatus: e.data.refundDueKrw > 0 ? 'refund-due' : row.depositPaidKrw > 0 ? 'forfeited' : depositStatus(row),
          });
          break;
        case 'NoShowRecorded':
          rows.update(id, {
            ...base,
            status: 'no-show',
            refundDueKrw: e.data.refundDueKrw,
            depositStatus: e.data.depositForfeitedKrw > 0 ? 'forfeited' : e.data.refundDueKrw > 0 ? 'refund-due' : depositStatus(row),
          });
          break;
        case 'ReservationCheckedIn':
          rows.update(id, { ...base, status: 'checked-in', visitId: e.data.visitId });
          break;
        case 'ReservationCompleted':
          rows.update(id, { ...base, status: 'completed', visitId: e.data.visitId });
          break;
      }
    }
    await rows.flush(tx);
  },
};
