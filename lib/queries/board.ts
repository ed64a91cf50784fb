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
import { and, asc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import { requireUser } from '../auth/guard';
import { appDatabase, db as appDb, type Db } from '../db/client';
import { users } from '../db/schema';
import { clinicDay } from '../domain';
import { DEFAULT_STAGE_THRESHOLDS, type StageThresholds } from '../domain/clinic';
import { VISIT_STAGES, type VisitStage } from '../domain/visit';
import { parseVisitBoardPayload, VISIT_BOARD_CHANNEL } from '../projections/read-models/visits';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { rmPatients, rmPayments, rmVisits } from '../projections/schema';
import { getClinicWithTreatments } from './catalogue';

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
  /** A discharged visit's bill; null before the discharge. */
  bill: BoardBill | null;
}

/**
 * What a discharged visit's sale came to (docs/payments.md, "The bill"): the lines are the card's
 * treatments and the total theirs; the deposit credited is what the process managers applied from the
 * reservation's deposit; the balance (total − credited) is asked as one bill, plus one per amendment.
 */
export interface BoardBill {
  totalKrw: number;
  depositCreditedKrw: number;
  balanceKrw: number;
  /** Of the balance: asked as bills so far (the process managers ask it just after the discharge). */
  billedKrw: number;
  paidKrw: number;
  /** 'none': nothing to pay; 'preparing': not all of the balance asked yet; 'due': asked, not all paid; 'paid'. */
  status: 'none' | 'preparing' | 'due' | 'paid';
}

/** Minutes in a stage after which its cards are highlighted (the clinic's setting; none on discharged). */
export type { StageThresholds };
export { DEFAULT_STAGE_THRESHOLDS };

/**
 * The clinic's stage thresholds (ClinicSettings.stageThresholdMinutes, as the catalogue read model
 * carries them), with the defaults for any stage it did not set. The one place the board reads them.
 */
export function stageThresholdsOf(clinic: { readonly settings?: unknown } | null): StageThresholds {
  const set = ((clinic?.settings ?? {}) as { stageThresholdMinutes?: Partial<Record<string, unknown>> }).stageThresholdMinutes ?? {};
  const pick = (stage: keyof StageThresholds) => {
    const v = set[stage];
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : DEFAULT_STAGE_THRESHOLDS[stage];
  };
  return { arrived: pick('arrived'), consultation: pick('consultation'), procedure: pick('procedure'), recovery: pick('recovery') };
}

export interface VisitBoard {
  clinicId: string;
  day: string;
  /** The board's version: changes whenever any of its visits (or a discharged one's payments) changes (the SSE event id). */
  version: string;
  columns: Array<{ stage: VisitStage; cards: BoardCard[] }>;
  thresholds: StageThresholds;
}

/** Visits on a clinic day's board; on today's, visits still open from earlier days too (nobody was discharged). */
function boardWhere(clinicId: string, day: string, today: string) {
  const onDay = eq(rmVisits.day, day);
  // The predicate written out (not a parameter) so the planner can use the partial index rm_visits_open_idx.
  return and(eq(rmVisits.clinicId, clinicId), day === today ? or(onDay, and(lt(rmVisits.day, day), sql`${rmVisits.stage} <> 'discharged'`)) : onDay);
}

/**
 * The version of what the board shows: a digest of its visits' ids and revisions and of the payments
 * of its discharged visits (their bills and the deposits credited to them), so a bill asked or paid
 * moves the version too. One statement on indexed columns, no rows sent.
 */
export async function boardVersionOf(db: Db, clinicId: string, day: string, now = new Date()): Promise<string> {
  const visits = db.select({ id: rmVisits.id, version: rmVisits.version, stage: rmVisits.stage }).from(rmVisits).where(boardWhere(clinicId, day, clinicDay(now)));
  const rows = await db.execute<{ v: string | null }>(sql`
    with v as (${visits}),
    d as (select id from v where stage = 'discharged'),
    parts as (
      select id || ':' || version as k from v
      union all select 'p:' || id || ':' || version from ${rmPayments} where visit_id in (select id from d)
      union all select 'p:' || id || ':' || version from ${rmPayments} where applied_visit_id in (select id from d)
    )
    select md5(string_agg(k, ',' order by k)) as v from parts`);
  const row = (rows as unknown as Array<{ v: string | null }>)[0];
  return `${day}.${row?.v ?? 'empty'}`;
}

/** The bills of discharged visits, from the payments read model (data only). */
async function billsOf(db: Db, visits: ReadonlyArray<{ id: string; totalKrw: number }>): Promise<Map<string, BoardBill>> {
  const bills = new Map<string, BoardBill>();
  if (visits.length === 0) return bills;
  const ids = visits.map((v) => v.id);
  const payments = await db
    .select({ purpose: rmPayments.purpose, visitId: rmPayments.visitId, appliedVisitId: rmPayments.appliedVisitId, status: rmPayments.status, amountKrw: rmPayments.amountKrw, capturedKrw: rmPayments.capturedKrw, appliedKrw: rmPayments.appliedKrw })
    .from(rmPayments)
    .where(or(inArray(rmPayments.visitId, ids), inArray(rmPayments.appliedVisitId, ids)));
  for (const v of visits) {
    let credited = 0;
    let billed = 0;
    let paid = 0;
    for (const p of payments) {
      if (p.purpose === 'deposit' && p.appliedVisitId === v.id) credited += p.appliedKrw;
      if (p.purpose === 'bill' && p.visitId === v.id && p.status !== 'failed') {
        billed += p.amountKrw;
        paid += Math.min(p.capturedKrw, p.amountKrw);
      }
    }
    const balance = Math.max(0, v.totalKrw - credited);
    const status = balance === 0 ? 'none' : billed < balance ? 'preparing' : paid < billed ? 'due' : 'paid';
    bills.set(v.id, { totalKrw: v.totalKrw, depositCreditedKrw: credited, balanceKrw: balance, billedKrw: billed, paidKrw: paid, status });
  }
  return bills;
}

/** The board of a clinic day (data only: callers authorise; see `visitBoard`). */
export async function boardOf(db: Db, clinicId: string, day: string, now = new Date(), thresholds: StageThresholds = DEFAULT_STAGE_THRESHOLDS): Promise<VisitBoard> {
  const visits = await db
    .select()
    .from(rmVisits)
    .where(boardWhere(clinicId, day, clinicDay(now)))
    .orderBy(asc(rmVisits.stageEnteredAt), asc(rmVisits.id));
  const patientIds = [...new Set(visits.map((v) => v.patientId))];
  const movers = [...new Set(visits.map((v) => v.movedBy).filter((id): id is string => !!id && /^[0-9a-f-]{36}$/i.test(id)))];
  const [patients, staff, bills, version] = await Promise.all([
    patientIds.length
      ? db.select({ id: rmPatients.id, name: rmPatients.name, erased: rmPatients.erased }).from(rmPatients).where(inArray(rmPatients.id, patientIds))
      : [],
    // Only this clinic's staff are named (an id of anyone else stays anonymous).
    movers.length ? db.select({ id: users.id, name: users.name }).from(users).where(and(inArray(users.id, movers), eq(users.clinicId, clinicId))) : [],
    billsOf(db, visits.filter((v) => v.stage === 'discharged')),
    boardVersionOf(db, clinicId, day, now),
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
      bill: bills.get(v.id) ?? null,
    };
  });
  return {
    clinicId,
    day,
    version,
    columns: VISIT_STAGES.map((stage) => ({ stage, cards: cards.filter((c) => c.stage === stage) })),
    thresholds,
  };
}

/** The board for the signed-in staff member of this clinic (403 for anyone else). */
export async function visitBoard(clinicId: string, day: string): Promise<VisitBoard> {
  const user = await requireUser({ roles: ['staff'], clinicId, callbackUrl: `/staff/${clinicId}/board` });
  const board = await boardOf(appDb(), clinicId, day, new Date(), stageThresholdsOf(await getClinicWithTreatments(clinicId)));
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
