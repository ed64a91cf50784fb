import { RowCache, seoulDay, flushAll } from '../rows';
import { rmClinicDailyStats, rmStatsSubjects, rmrevDailyStats } from '../schema';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';

type Row = typeof rmClinicDailyStats.$inferSelect;
type SubjectRow = typeof rmStatsSubjects.$inferSelect;

const COUNTED = new Set(['ReservationRequested', 'ReservationCancelled', 'NoShowRecorded', 'PaymentCaptured', 'PaymentCollectedInCash', 'PaymentRefunded']);

/**
 * Daily statistics per clinic, by the Asia/Seoul day the event happened: bookings made,
 * cancellations, no-shows, money captured and refunded, revenue (captured − refunded).
 * v2: a bill paid in cash at the desk (PaymentCollectedInCash) is money captured too.
 */
export const dailyStatsProjection: Projection = {
  name: 'daily-stats',
  version: 2,
  streams: ['reservation-', 'payment-'],
  eventTypes: ['ReservationRequested', 'ReservationCancelled', 'NoShowRecorded', 'PaymentRequested', 'PaymentCaptured', 'PaymentCollectedInCash', 'PaymentRefunded'],
  revisions: rmrevDailyStats,
  tables: [{ table: rmClinicDailyStats }, { table: rmStatsSubjects }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const subjects = new RowCache<SubjectRow>(rmStatsSubjects, 'streamId');
    const stats = new RowCache<Row>(rmClinicDailyStats, 'id');
    await subjects.load(
      tx,
      events.map((e) => e.recorded.streamId),
    );
    const clinicOf = (streamId: string, data: Record<string, unknown>) => {
      const known = subjects.get(streamId)?.clinicId;
      if (known) return known;
      if (typeof data.clinicId === 'string') return data.clinicId;
      return undefined;
    };
    const keys = new Set<string>();
    for (const { recorded, domain } of events) {
      if (!COUNTED.has(domain!.type)) continue;
      const clinicId =
        clinicOf(recorded.streamId, domain!.data as Record<string, unknown>) ??
        (events.find((x) => x.recorded.streamId === recorded.streamId && typeof (x.domain!.data as { clinicId?: unknown }).clinicId === 'string')
          ?.domain!.data as { clinicId: string } | undefined)?.clinicId;
      if (clinicId) keys.add(`${clinicId}|${seoulDay(recorded.metadata.occurredAt)}`);
    }
    await stats.load(tx, keys);
    for (const { recorded, domain } of events) {
      const data = domain!.data as Record<string, unknown>;
      if (domain!.type === 'ReservationRequested' || domain!.type === 'PaymentRequested') {
        subjects.put({ streamId: recorded.streamId, clinicId: data.clinicId as string });
      }
      if (!COUNTED.has(domain!.type)) continue;
      const clinicId = clinicOf(recorded.streamId, data);
      if (!clinicId) throw new Error(`${domain!.type} in ${recorded.streamId}: clinic unknown`);
      const day = seoulDay(recorded.metadata.occurredAt);
      const id = `${clinicId}|${day}`;
      const row = stats.get(id) ?? { id, clinicId, day, bookings: 0, cancellations: 0, noShows: 0, capturedKrw: 0, refundedKrw: 0, revenueKrw: 0 };
      const next = { ...row };
      switch (domain!.type) {
        case 'ReservationRequested':
          next.bookings++;
          break;
        case 'ReservationCancelled':
          next.cancellations++;
          break;
        case 'NoShowRecorded':
          next.noShows++;
          break;
        case 'PaymentCaptured':
        case 'PaymentCollectedInCash':
          next.capturedKrw += data.amountKrw as number;
          break;
        case 'PaymentRefunded':
          next.refundedKrw += data.amountKrw as number;
          break;
      }
      next.revenueKrw = next.capturedKrw - next.refundedKrw;
      stats.put(next);
    }
    await flushAll(tx, subjects, stats);
  },
};
