import type { reservation } from '../../domain';
import { RowCache } from '../rows';
import { rmReservations, rmrevReservations } from '../schema';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';

type Row = typeof rmReservations.$inferSelect;
type E = reservation.ReservationEvent;

function depositStatus(row: Pick<Row, 'depositDueKrw' | 'depositPaidKrw'>): string {
  if (row.depositDueKrw === 0 && row.depositPaidKrw === 0) return 'none';
  if (row.depositPaidKrw === 0) return 'due';
  return row.depositPaidKrw < row.depositDueKrw ? 'partially-paid' : 'paid';
}

/** One row per reservation: patient, clinic, treatment, slot, status, deposit, frozen policy. */
export const reservationsProjection: Projection = {
  name: 'reservations',
  version: 1,
  streams: ['reservation-'],
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
  ],
  revisions: rmrevReservations,
  tables: [{ table: rmReservations }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const rows = new RowCache<Row>(rmReservations, 'id');
    await rows.load(
      tx,
      events.map((e) => (e.domain!.data as { reservationId: string }).reservationId),
    );
    for (const { recorded, domain } of events) {
      const e = domain as E;
      const at = new Date(recorded.metadata.occurredAt);
      const version = recorded.revision;
      const id = e.data.reservationId;
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
          note: d.note ?? null,
          requestedAt: at,
          updatedAt: at,
          version,
        };
        row.depositStatus = depositStatus(row);
        rows.put(row);
        continue;
      }
      const row = rows.get(id);
      if (!row) throw new Error(`${e.type} for unknown reservation ${id}`);
      const base = { updatedAt: at, version };
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
