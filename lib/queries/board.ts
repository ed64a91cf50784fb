/**
 * The staff visit board (issue 9, item 2): a clinic day's visits by stage, from the visit-board read
 * model, with the patient's name from the patients read model (staff of the visit's clinic may see
 * it; contact details are never read here) and the staff member who moved each visit last.
 *
 * Live updates: the visit-board projection NOTIFYs `VISIT_BOARD_CHANNEL` at commit with the clinics
 * it changed. One LISTEN per process (`boardChanges()`) fans that out to the open boards' event
 * streams (app/api/staff/[clinicId]/board/events), which compare the board's version (a digest of its
 * visits' ids and stream revisions) with what the browser last saw: the SSE event id, so a browser
 * that reconnects with Last-Event-ID is told at once whether it missed something.
 */
import { and, asc, eq, inArray, lt, ne, or, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import { requireUser } from '../auth/guard';
import { appDatabase, db as appDb, type Db } from '../db/client';
import { users } from '../db/schema';
import { clinicDay } from '../domain';
import { VISIT_STAGES, type VisitStage } from '../domain/visit';
import { parseVisitBoardPayload, VISIT_BOARD_CHANNEL } from '../projections/read-models/visits';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { rmPatients, rmVisits } from '../projections/schema';

export interface BoardCard {
  visitId: string;
  patientId: string;
  /** Decrypted name; null when the patient was erased or is not projected yet. */
  patientName: string | null;
  patientErased: boolean;
  reservationId: string | null;
  stage: VisitStage;
  stageEnteredAt: string;
  /** Name of who moved it into this stage (a staff member of the clinic), or null (the system). */
  movedByName: string | null;
  /** The last move was a revert: from where, and why. */
  revert: { from: string; reason: string } | null;
  treatments: Array<{ lineId: string; name: string; quantity: number; priceKrw: number }>;
  totalKrw: number;
  arrivedAt: string;
}

export interface VisitBoard {
  clinicId: string;
  day: string;
  /** The board's version: changes whenever any of its visits changes (the SSE event id). */
  version: string;
  columns: Array<{ stage: VisitStage; cards: BoardCard[] }>;
}

/** Visits on a clinic day's board; on today's, visits still open from earlier days too (nobody was discharged). */
function boardWhere(clinicId: string, day: string, today: string) {
  const onDay = eq(rmVisits.day, day);
  return and(eq(rmVisits.clinicId, clinicId), day === today ? or(onDay, and(lt(rmVisits.day, day), ne(rmVisits.stage, 'discharged'))) : onDay);
}

/** The version of what the board shows: a digest of its visits' ids and revisions (one indexed query, no rows sent). */
export async function boardVersionOf(db: Db, clinicId: string, day: string, now = new Date()): Promise<string> {
  const [row] = await db
    .select({ v: sql<string>`coalesce(md5(string_agg(${rmVisits.id} || ':' || ${rmVisits.version}, ',' order by ${rmVisits.id})), 'empty')` })
    .from(rmVisits)
    .where(boardWhere(clinicId, day, clinicDay(now)));
  return `${day}.${row?.v ?? 'empty'}`;
}

/** The board of a clinic day (data only: callers authorise; see `visitBoard`). */
export async function boardOf(db: Db, clinicId: string, day: string, now = new Date()): Promise<VisitBoard> {
  const visits = await db
    .select()
    .from(rmVisits)
    .where(boardWhere(clinicId, day, clinicDay(now)))
    .orderBy(asc(rmVisits.stageEnteredAt), asc(rmVisits.id));
  const patientIds = [...new Set(visits.map((v) => v.patientId))];
  const movers = [...new Set(visits.map((v) => v.movedBy).filter((id): id is string => !!id && /^[0-9a-f-]{36}$/i.test(id)))];
  const [patients, staff] = await Promise.all([
    patientIds.length
      ? db.select({ id: rmPatients.id, name: rmPatients.name, erased: rmPatients.erased }).from(rmPatients).where(inArray(rmPatients.id, patientIds))
      : [],
    // Only this clinic's staff are named (an id of anyone else stays anonymous).
    movers.length ? db.select({ id: users.id, name: users.name }).from(users).where(and(inArray(users.id, movers), eq(users.clinicId, clinicId))) : [],
  ]);
  const patientById = new Map(patients.map((p) => [p.id, p]));
  const staffName = new Map(staff.map((s) => [s.id, s.name]));
  const cards = visits.map((v): BoardCard => {
    const last = v.history.at(-1);
    const patient = patientById.get(v.patientId);
    return {
      visitId: v.id,
      patientId: v.patientId,
      patientName: patient && !patient.erased ? patient.name : null,
      patientErased: patient?.erased ?? false,
      reservationId: v.reservationId,
      stage: v.stage as VisitStage,
      stageEnteredAt: v.stageEnteredAt.toISOString(),
      movedByName: v.movedBy ? (staffName.get(v.movedBy) ?? null) : null,
      revert: last?.revertedFrom && last.reason ? { from: last.revertedFrom, reason: last.reason } : null,
      treatments: v.treatments.map((t) => ({ lineId: t.lineId, name: t.name, quantity: t.quantity, priceKrw: t.priceKrw })),
      totalKrw: v.totalKrw,
      arrivedAt: v.arrivedAt.toISOString(),
    };
  });
  return {
    clinicId,
    day,
    version: await boardVersionOf(db, clinicId, day, now),
    columns: VISIT_STAGES.map((stage) => ({ stage, cards: cards.filter((c) => c.stage === stage) })),
  };
}

/** The board for the signed-in staff member of this clinic (403 for anyone else). */
export async function visitBoard(clinicId: string, day: string): Promise<VisitBoard> {
  const user = await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}/board` });
  const board = await boardOf(appDb(), clinicId, day);
  // Access log: one entry per render naming every patient whose decrypted name it shows (before it is shown).
  const patientIds = board.columns.flatMap((c) => c.cards.filter((card) => card.patientName !== null).map((card) => card.patientId));
  if (patientIds.length) await recordPersonalDataAccess({ user, action: 'view', resource: 'visit-board-names', patientIds, clinicId, detail: { day } });
  return board;
}

/** The current version of a board, for its event stream (callers authorise: see the route handler). */
export function boardVersion(clinicId: string, day: string): Promise<string> {
  return boardVersionOf(appDb(), clinicId, day);
}

// ── Change notifications ────────────────────────────────────────────────────────────────────────

/** `clinicId` changed, or null: re-check every board (a reconnect: notifications may have been missed). */
export type BoardChangeListener = (clinicId: string | null) => void;

/** Fans the projection's notifications out to this process's open boards, over one LISTEN connection. */
export class BoardChanges {
  private readonly listeners = new Set<BoardChangeListener>();
  private started: Promise<void> | undefined;

  constructor(private readonly sqlOf: () => postgres.Sql = () => appDatabase().sql) {}

  /** Starts the LISTEN once; resolves when it is in place. */
  listen(): Promise<void> {
    this.started ??= this.sqlOf()
      .listen(
        VISIT_BOARD_CHANNEL,
        (payload) => {
          const ids = parseVisitBoardPayload(payload);
          if (ids === '*') this.emit(null);
          else for (const id of ids) this.emit(id);
        },
        // On every (re)connect of the listening connection: what happened meanwhile was not announced.
        () => this.emit(null),
      )
      .then(
        () => undefined,
        (error: unknown) => {
          this.started = undefined; // the next subscriber tries again
          throw error;
        },
      );
    return this.started;
  }

  /** Calls `listener` on every change until the returned function is called. */
  async subscribe(listener: BoardChangeListener): Promise<() => void> {
    this.listeners.add(listener);
    await this.listen();
    return () => {
      this.listeners.delete(listener);
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  private emit(clinicId: string | null): void {
    for (const l of this.listeners) {
      try {
        l(clinicId);
      } catch {
        // one closed stream must not stop the others
      }
    }
  }
}

const globalForBoard = globalThis as unknown as { yeyakBoardChanges?: BoardChanges };

/** This process's board change fan-out (one LISTEN connection). */
export function boardChanges(): BoardChanges {
  globalForBoard.yeyakBoardChanges ??= new BoardChanges();
  return globalForBoard.yeyakBoardChanges;
}
