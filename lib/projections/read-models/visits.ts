import { sql } from 'drizzle-orm';
import type { visit } from '../../domain';
import { RowCache, seoulDay } from '../rows';
import { rmVisits, rmrevVisits, type StageEntry } from '../schema';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';

type Row = typeof rmVisits.$inferSelect;

/**
 * Open visit boards (lib/queries/board.ts, the staff board's server-sent events) listen here: the
 * projection NOTIFYs, in its batch's transaction (so at commit only, never for a rolled-back batch),
 * the clinics whose visits it changed, comma-separated, or `*` when the list would not fit a payload.
 */
export const VISIT_BOARD_CHANNEL = 'yeyak_visit_board';

/** PostgreSQL payloads are limited to 8000 bytes. */
const MAX_BOARD_PAYLOAD = 7000;

export function visitBoardPayload(clinicIds: Iterable<string>): string {
  const list = [...new Set(clinicIds)].sort().join(',');
  return list.length > MAX_BOARD_PAYLOAD ? '*' : list;
}

/** The clinics a payload names, or '*' (every clinic: re-check them all). */
export function parseVisitBoardPayload(payload: string): string[] | '*' {
  return payload === '*' ? '*' : payload.split(',').filter(Boolean);
}

type E = visit.VisitEvent;

const STAGE_OF: Record<string, string> = {
  ConsultationStarted: 'consultation',
  ProcedureStarted: 'procedure',
  RecoveryStarted: 'recovery',
  PatientDischarged: 'discharged',
};

/** The staff visit board: each visit's stage, when each stage was entered and who moved it. */
export const visitBoardProjection: Projection = {
  name: 'visit-board',
  version: 1,
  streams: ['visit-'],
  eventTypes: ['PatientArrived', 'ConsultationStarted', 'TreatmentAdded', 'ProcedureStarted', 'RecoveryStarted', 'PatientDischarged', 'VisitStageReverted'],
  revisions: rmrevVisits,
  tables: [{ table: rmVisits }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const rows = new RowCache<Row>(rmVisits, 'id');
    await rows.load(
      tx,
      events.map((e) => (e.domain!.data as { visitId: string }).visitId),
    );
    for (const { recorded, domain } of events) {
      const e = domain as E;
      const version = recorded.revision;
      const actor = recorded.metadata.actor?.id ?? null;
      if (e.type === 'PatientArrived') {
        const by = actor;
        rows.put({
          id: e.data.visitId,
          clinicId: e.data.clinicId,
          patientId: e.data.patientId,
          reservationId: e.data.reservationId ?? null,
          day: seoulDay(e.data.at),
          stage: 'arrived',
          stageEnteredAt: new Date(e.data.at),
          movedBy: by,
          stageTimes: { arrived: { at: e.data.at, by } },
          history: [{ stage: 'arrived', at: e.data.at, by }],
          treatments: [],
          totalKrw: 0,
          arrivedAt: new Date(e.data.at),
          dischargedAt: null,
          version,
        });
        continue;
      }
      const row = rows.get(e.data.visitId);
      if (!row) throw new Error(`${e.type} for unknown visit ${e.data.visitId}`);
      if (e.type === 'TreatmentAdded') {
        const d = e.data;
        if (row.treatments.some((t) => t.lineId === d.lineId)) {
          rows.update(row.id, { version });
          continue;
        }
        const treatments = [
          ...row.treatments,
          { lineId: d.lineId, treatmentId: d.treatmentId, name: d.treatmentName, quantity: d.quantity, priceKrw: d.priceKrw, at: d.at, by: d.staffId ?? actor },
        ];
        rows.update(row.id, { treatments, totalKrw: treatments.reduce((sum, t) => sum + t.priceKrw, 0), version });
        continue;
      }
      if (e.type === 'VisitStageReverted') {
        const by = e.data.staffId;
        const entry: StageEntry = { stage: e.data.to, at: e.data.at, by, revertedFrom: e.data.from, reason: e.data.reason };
        rows.update(row.id, {
          stage: e.data.to,
          stageEnteredAt: new Date(e.data.at),
          movedBy: by,
          stageTimes: { ...row.stageTimes, [e.data.to]: { at: e.data.at, by } },
          history: [...row.history, entry],
          dischargedAt: e.data.to === 'discharged' ? new Date(e.data.at) : null,
          version,
        });
        continue;
      }
      const stage = STAGE_OF[e.type]!;
      const by = e.data.staffId ?? actor;
      rows.update(row.id, {
        stage,
        stageEnteredAt: new Date(e.data.at),
        movedBy: by,
        stageTimes: { ...row.stageTimes, [stage]: { at: e.data.at, by } },
        history: [...row.history, { stage, at: e.data.at, by }],
        ...(e.type === 'PatientDischarged' ? { dischargedAt: new Date(e.data.at), totalKrw: e.data.totalKrw } : {}),
        version,
      });
    }
    await rows.flush(tx);
    // Sent on its own (a SELECT inside the collected write statement would not run).
    const clinicIds = new Set([...rows.loaded()].map((r) => r.clinicId));
    if (clinicIds.size) await tx.execute(sql`select pg_notify(${VISIT_BOARD_CHANNEL}, ${visitBoardPayload(clinicIds)})`);
  },
};
