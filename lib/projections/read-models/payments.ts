import { sql } from 'drizzle-orm';
import type { payment } from '../../domain';
import { RowCache, seoulDay, flushAll } from '../rows';
import { rmPaymentDays, rmPayments, rmrevPayments } from '../schema';
import { VISIT_BOARD_CHANNEL, visitBoardPayload } from './visits';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';

type Row = typeof rmPayments.$inferSelect;
type DayRow = typeof rmPaymentDays.$inferSelect;
type E = payment.PaymentEvent;

const dayId = (clinicId: string, day: string) => `${clinicId}|${day}`;

/**
 * The payment ledger: per payment, and per clinic and day (captured, refunded, who took it).
 * v2: VAT as docs/payments.md, "VAT" has it — a deposit 0 until applied to a bill (PaymentRequested
 * v2; v1 deposits read 0), then its share of the sale's VAT (DepositApplied, with applied_krw and the
 * visit); a bill its share of the sale's per-line VAT.
 * v3: a bill paid in cash at the desk (PaymentCollectedInCash) is captured with provider 'cash'.
 */
export const paymentLedgerProjection: Projection = {
  name: 'payment-ledger',
  version: 3,
  streams: ['payment-'],
  eventTypes: ['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentCollectedInCash', 'PaymentRefunded', 'PaymentFailed', 'DepositApplied'],
  revisions: rmrevPayments,
  tables: [{ table: rmPayments }, { table: rmPaymentDays }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const rows = new RowCache<Row>(rmPayments, 'id');
    const days = new RowCache<DayRow>(rmPaymentDays, 'id');
    await rows.load(
      tx,
      events.map((e) => (e.domain!.data as { paymentId: string }).paymentId),
    );
    const dayKeys = new Set<string>();
    for (const { recorded, domain } of events) {
      if (domain!.type !== 'PaymentCaptured' && domain!.type !== 'PaymentCollectedInCash' && domain!.type !== 'PaymentRefunded') continue;
      const id = (domain!.data as { paymentId: string }).paymentId;
      const clinicId =
        rows.get(id)?.clinicId ??
        (events.find((x) => x.domain!.type === 'PaymentRequested' && (x.domain!.data as { paymentId: string }).paymentId === id)?.domain!.data as
          | { clinicId: string }
          | undefined)?.clinicId;
      if (clinicId) dayKeys.add(dayId(clinicId, seoulDay(recorded.metadata.occurredAt)));
    }
    await days.load(tx, dayKeys);
    const addDay = (clinicId: string, day: string, change: (row: DayRow) => DayRow) => {
      const id = dayId(clinicId, day);
      const row = days.get(id) ?? { id, clinicId, day, capturedKrw: 0, refundedKrw: 0, captures: 0, refunds: 0, capturedByStaff: {} };
      days.put(change(row));
    };

    for (const { recorded, domain } of events) {
      const e = domain as E;
      const at = recorded.metadata.occurredAt;
      const actor = recorded.metadata.actor?.id ?? 'unknown';
      const version = recorded.revision;
      if (e.type === 'PaymentRequested') {
        const d = e.data;
        rows.put({
          id: d.paymentId,
          clinicId: d.clinicId,
          patientId: d.patientId,
          purpose: d.purpose,
          reservationId: d.reservationId ?? null,
          visitId: d.visitId ?? null,
          status: 'requested',
          amountKrw: d.amountKrw,
          vatKrw: d.vatKrw,
          capturedKrw: 0,
          refundedKrw: 0,
          appliedKrw: 0,
          appliedVisitId: null,
          provider: null,
          providerRef: null,
          capturedBy: null,
          capturedAt: null,
          failureReason: null,
          refunds: [],
          requestedAt: new Date(at),
          day: seoulDay(at),
          updatedAt: new Date(at),
          version,
        });
        continue;
      }
      const row = rows.get(e.data.paymentId);
      if (!row) throw new Error(`${e.type} for unknown payment ${e.data.paymentId}`);
      const base = { updatedAt: new Date(at), version };
      switch (e.type) {
        case 'PaymentAuthorized':
          rows.update(row.id, { ...base, status: 'authorized', provider: e.data.provider, providerRef: e.data.providerRef });
          break;
        case 'PaymentCaptured':
        case 'PaymentCollectedInCash':
          rows.update(row.id, {
            ...base,
            status: 'captured',
            capturedKrw: row.capturedKrw + e.data.amountKrw,
            capturedBy: actor,
            capturedAt: new Date(at),
            ...(e.type === 'PaymentCollectedInCash' ? { provider: 'cash', providerRef: null } : {}),
          });
          addDay(row.clinicId, seoulDay(at), (d) => ({
            ...d,
            capturedKrw: d.capturedKrw + e.data.amountKrw,
            captures: d.captures + 1,
            capturedByStaff: { ...d.capturedByStaff, [actor]: (d.capturedByStaff[actor] ?? 0) + e.data.amountKrw },
          }));
          break;
        case 'PaymentRefunded':
          rows.update(row.id, {
            ...base,
            status: e.data.full ? 'refunded' : 'partially-refunded',
            refundedKrw: e.data.refundedKrw,
            refunds: [...row.refunds, { refundId: e.data.refundId, amountKrw: e.data.amountKrw, reason: e.data.reason, at, by: actor }],
          });
          addDay(row.clinicId, seoulDay(at), (d) => ({ ...d, refundedKrw: d.refundedKrw + e.data.amountKrw, refunds: d.refunds + 1 }));
          break;
        case 'PaymentFailed':
          rows.update(row.id, { ...base, status: 'failed', failureReason: e.data.reason });
          break;
        case 'DepositApplied':
          rows.update(row.id, { ...base, appliedKrw: e.data.amountKrw, appliedVisitId: e.data.visitId, vatKrw: e.data.vatKrw });
          break;
      }
    }
    await flushAll(tx, rows, days);
    // A discharged card on the visit board shows its bill: the boards of the clinics whose visit
    // payments changed look again (at commit, like the visit-board projection's own NOTIFY).
    const boards = new Set([...rows.loaded()].filter((r) => r.visitId || r.appliedVisitId).map((r) => r.clinicId));
    if (boards.size) await tx.execute(sql`select pg_notify(${VISIT_BOARD_CHANNEL}, ${visitBoardPayload(boards)})`);
  },
};
