/**
 * The staff reads (Today, the visit board) and the board's notification path, on a real database with
 * the real projection worker: commands through the command layer (as the clinic's staff), the worker
 * projects them live and NOTIFYs the clinics it changed; BoardChanges (what the SSE route listens to)
 * hears this clinic's changes and only the boards that changed get a new version.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTreatment,
  bookReservation,
  checkInReservation,
  confirmReservation,
  discharge,
  ForbiddenError,
  recordArrival,
  rejectReservation,
  registerPatient,
  revertStage,
  startConsultation,
  startProcedure,
  type CommandDeps,
} from '../commands';
import { manualClock, meta, patientMeta, registerTestClinic, staffMeta } from '../commands/testing';
import { monday } from '../domain/clinic/fixtures';
import { createEventStore, type EventStore, type Position } from '../eventstore';
import { createPersonalDataVault } from '../privacy/vault';
import { allProjections } from '../projections/registry';
import { waitForProjections } from '../projections/wait';
import { ProjectionWorker } from '../projections/worker';
import { createTestDatabase } from '../testing/db';
import { parseVisitBoardPayload, VISIT_BOARD_CHANNEL, visitBoardPayload } from '../projections/read-models/visits';
import { BoardChanges, boardOf, boardVersionOf, DEFAULT_STAGE_THRESHOLDS, stageThresholdsOf } from './board';
import { isClinicDay, shiftDay, staffDay, todayOf } from './staff';

const t = await createTestDatabase();
let store: EventStore;
let deps: CommandDeps;
let worker: ProjectionWorker;
// Sunday 2025-03-02 09:00 in Seoul; Monday's slots are bookable.
const clock = manualClock('2025-03-02T00:00:00Z');
const tag = randomBytes(3).toString('hex');
const clinicId = `c-board-${tag}`;
const otherClinic = `c-other-${tag}`;
const staffId = randomUUID();
const alice = `p-alice-${tag}`;
const bob = `p-bob-${tag}`;
const asStaff = (clinic = clinicId) => staffMeta(clinic, staffId);
const mondayNoonUtc = new Date('2025-03-03T03:00:00Z');

async function projected(position: Position | null | undefined) {
  if (position) expect(await waitForProjections(position, { sql: t.sql, timeoutMs: 20_000 })).toBe('caught-up');
}

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'board-query-test-key' });
  deps = { store, clock, privacy: createPersonalDataVault(t.sql, randomBytes(32).toString('base64')) };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: deps.privacy, statusIntervalMs: 200 });
  await worker.start();
  await registerTestClinic(deps, clinicId, { slotCapacity: 2 });
  await registerTestClinic(deps, otherClinic, { slotCapacity: 2 });
  for (const [patientId, name] of [
    [alice, '김앨리스'],
    [bob, 'Bob Lee'],
  ] as const) {
    await registerPatient(deps, { patientId, name, phone: '010-1234-5678', birthDate: '1990-01-01', email: `${patientId}@example.com` }, patientMeta(patientId));
  }
  // The staff member's name, for "moved by".
  await t.sql`insert into users (id, email, name, password_hash, role, clinic_id) values (${staffId}, ${`staff-${tag}@example.com`}, '최수아', 'x', 'staff', ${clinicId})`;
}, 60_000);

afterAll(async () => {
  await worker?.stop().catch(() => {});
  await store?.close();
});

describe('staff days', () => {
  it('reads ?day= only when it is a real date, else today in Seoul', () => {
    const now = new Date('2025-03-02T16:00:00Z'); // 01:00 on Monday in Seoul
    expect(staffDay(undefined, now)).toBe('2025-03-03');
    expect(staffDay('2025-02-28', now)).toBe('2025-02-28');
    for (const bad of ['2025-02-30', '2025-13-01', 'tomorrow', '2025-3-1', '', '0001-01-01', '1899-12-31']) {
      expect(isClinicDay(bad)).toBe(false);
      expect(staffDay(bad, now)).toBe('2025-03-03');
    }
    expect(shiftDay('2025-03-01', -1)).toBe('2025-02-28');
    expect(shiftDay('2025-12-31', 1)).toBe('2026-01-01');
  });
});

describe('the board notification payload', () => {
  it('names the clinics (each once), or every clinic when they would not fit a NOTIFY payload; "*" reaches every open board', async () => {
    expect(visitBoardPayload(['b', 'a', 'b'])).toBe('a,b');
    expect(parseVisitBoardPayload('a,b')).toEqual(['a', 'b']);
    const many = Array.from({ length: 400 }, (_, i) => `clinic-with-a-long-id-${i}`);
    expect(visitBoardPayload(many)).toBe('*');
    expect(parseVisitBoardPayload('*')).toBe('*');

    const changes = new BoardChanges(() => t.sql);
    const heard: Array<string | null> = [];
    const unsubscribe = await changes.subscribe((c) => heard.push(c));
    heard.length = 0; // the LISTEN's own connect re-checks everything once
    await t.sql`select pg_notify(${VISIT_BOARD_CHANNEL}, '*')`;
    await t.sql`select pg_notify(${VISIT_BOARD_CHANNEL}, 'x,y')`;
    const end = Date.now() + 3000;
    while (heard.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(heard).toEqual([null, 'x', 'y']);
    unsubscribe();
  });
});

describe('Today (todayOf)', () => {
  it('lists the requests waiting, the day’s arrivals with names, and seats per slot; confirm and reject take a request off', async () => {
    // Ulthera consult-first is clinic-confirm: requested until the clinic decides.
    const waiting = `r-wait-${tag}`;
    const refused = `r-refuse-${tag}`;
    const instant = `r-instant-${tag}`;
    await bookReservation(deps, { reservationId: waiting, clinicId, patientId: alice, treatmentId: 'tx-ulthera', kind: 'consult-first', startsAt: monday('11:00') }, patientMeta(alice, clinicId));
    await bookReservation(deps, { reservationId: refused, clinicId, patientId: bob, treatmentId: 'tx-ulthera', kind: 'consult-first', startsAt: monday('11:00') }, patientMeta(bob, clinicId));
    const last = await bookReservation(deps, { reservationId: instant, clinicId, patientId: bob, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('15:00') }, patientMeta(bob, clinicId));
    await projected(last.position);

    const now = new Date('2025-03-02T00:05:00Z');
    const before = await todayOf(t.db, clinicId, '2025-03-03', now);
    expect(before.today).toBe('2025-03-02');
    expect(before.requests.map((r) => [r.id, r.patientName, r.status])).toEqual([
      [waiting, '김앨리스', 'requested'],
      [refused, 'Bob Lee', 'requested'],
    ].sort((a, b) => a[0]!.localeCompare(b[0]!)));
    expect(before.arrivals.map((r) => [r.id, r.patientName, r.status])).toEqual([[instant, 'Bob Lee', 'confirmed']]);
    // Mon 10–13 and 14–19 in 30-minute slots; the two requests hold 11:00 (one seat each, confirmed holds).
    expect(before.slots.map((s) => s.time)).toEqual(['10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30', '17:00', '17:30', '18:00', '18:30']);
    const at = (time: string) => before.slots.find((s) => s.time === time)!;
    expect(at('11:00')).toMatchObject({ capacity: 2, booked: 2, pending: 0, free: 0 });
    expect(at('15:00')).toMatchObject({ booked: 1, free: 1 });
    expect(at('10:00')).toMatchObject({ booked: 0, free: 2 });
    // Another clinic's day is not this one's.
    expect((await todayOf(t.db, otherClinic, '2025-03-03', now)).requests).toEqual([]);
    // Sunday: closed, no slots.
    expect((await todayOf(t.db, clinicId, '2025-03-02', now)).slots).toEqual([]);

    await confirmReservation(deps, { reservationId: waiting, staffId }, asStaff());
    const rejected = await rejectReservation(deps, { reservationId: refused, staffId, reason: 'fully booked for lifting' }, asStaff());
    await projected(rejected.position);
    const after = await todayOf(t.db, clinicId, '2025-03-03', now);
    expect(after.requests).toEqual([]);
    expect(after.arrivals.map((r) => r.id).sort()).toEqual([instant, waiting].sort());
    // (The rejected request's seat is released by the process managers, not running here.)
  });
});

describe('stage thresholds', () => {
  it("are the clinic's where it set them, the defaults elsewhere; nonsense reads as the default", () => {
    expect(stageThresholdsOf(null)).toEqual(DEFAULT_STAGE_THRESHOLDS);
    expect(stageThresholdsOf({ settings: {} })).toEqual(DEFAULT_STAGE_THRESHOLDS);
    expect(stageThresholdsOf({ settings: { stageThresholdMinutes: { arrived: 5, procedure: 0, recovery: 2.5 } } })).toEqual({ ...DEFAULT_STAGE_THRESHOLDS, arrived: 5 });
  });
});

describe('the visit board (boardOf) and its notifications', () => {
  it('shows each visit in its stage with the name, treatments, who moved it and a revert’s reason; the version follows every change', async () => {
    clock.set(mondayNoonUtc);
    const changes = new BoardChanges(() => t.sql);
    const heard: Array<string | null> = [];
    const unsubscribe = await changes.subscribe((c) => heard.push(c));
    const heardFor = async (clinic: string, timeoutMs = 3000) => {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (heard.includes(clinic)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    };

    const day = '2025-03-03';
    const empty = await boardVersionOf(t.db, clinicId, day, mondayNoonUtc);
    const reservationId = `r-visit-${tag}`;
    const booked = await bookReservation(deps, { reservationId, clinicId, patientId: alice, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('16:00') }, patientMeta(alice, clinicId));
    await projected(booked.position);
    heard.length = 0;

    const visitId = `v-${tag}`;
    const started = Date.now();
    const checkedIn = await checkInReservation(deps, { reservationId, visitId, staffId }, asStaff());
    await projected(checkedIn.position);
    expect(await heardFor(clinicId)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);

    let board = await boardOf(t.db, clinicId, day, mondayNoonUtc);
    expect(board.version).not.toBe(empty);
    const cardIn = (stage: string) => board.columns.find((c) => c.stage === stage)!.cards;
    expect(board.columns.map((c) => c.stage)).toEqual(['arrived', 'consultation', 'procedure', 'recovery', 'discharged']);
    expect(cardIn('arrived')).toHaveLength(1);
    expect(cardIn('arrived')[0]).toMatchObject({ visitId, patientName: '김앨리스', reservationId, movedByName: '최수아', treatments: [], revert: null });

    const v1 = board.version;
    clock.advanceMinutes(5);
    await startConsultation(deps, { visitId, staffId }, asStaff());
    const added = await addTreatment(deps, { visitId, lineId: 'line-1', treatmentId: 'tx-botox', staffId }, asStaff());
    await projected(added.position);
    board = await boardOf(t.db, clinicId, day, mondayNoonUtc);
    expect(board.version).not.toBe(v1);
    expect(cardIn('consultation')[0]).toMatchObject({ movedByName: '최수아', stageEnteredAt: new Date(mondayNoonUtc.getTime() + 5 * 60_000).toISOString() });
    expect(cardIn('consultation')[0]!.treatments).toEqual([{ lineId: 'line-1', name: 'Botox (forehead)', quantity: 1, priceKrw: 99_000 }]);

    await startProcedure(deps, { visitId, staffId }, asStaff());
    const reverted = await revertStage(deps, { visitId, staffId, reason: 'wrong patient moved' }, asStaff());
    await projected(reverted.position);
    board = await boardOf(t.db, clinicId, day, mondayNoonUtc);
    expect(cardIn('procedure')).toEqual([]);
    expect(cardIn('consultation')[0]!.revert).toEqual({ from: 'procedure', reason: 'wrong patient moved' });

    // A walk-in: a visit with no reservation, on the same board.
    const walkIn = await recordArrival(deps, { visitId: `v-walk-${tag}`, clinicId, patientId: bob, staffId }, asStaff());
    await projected(walkIn.position);
    board = await boardOf(t.db, clinicId, day, mondayNoonUtc);
    expect(cardIn('arrived').map((c) => [c.patientName, c.reservationId])).toEqual([['Bob Lee', null]]);

    const done = await discharge(deps, { visitId, staffId }, asStaff());
    await projected(done.position);
    board = await boardOf(t.db, clinicId, day, mondayNoonUtc);
    expect(cardIn('discharged').map((c) => [c.visitId, c.totalKrw])).toEqual([[visitId, 99_000]]);
    // Another day's board is not this one, and a day without visits has its own constant version.
    expect((await boardOf(t.db, clinicId, '2025-03-04', mondayNoonUtc)).columns.every((c) => c.cards.length === 0)).toBe(true);

    // Another clinic's change is announced for that clinic only; this board's version stays.
    const mine = await boardVersionOf(t.db, clinicId, day, mondayNoonUtc);
    heard.length = 0;
    const foreign = await recordArrival(deps, { visitId: `v-other-${tag}`, clinicId: otherClinic, patientId: bob }, meta({ clinicId: otherClinic }));
    await projected(foreign.position);
    expect(await heardFor(otherClinic)).toBe(true);
    expect(heard).not.toContain(clinicId);
    expect(await boardVersionOf(t.db, clinicId, day, mondayNoonUtc)).toBe(mine);
    unsubscribe();
    expect(changes.size).toBe(0);
  }, 60_000);

  it('refuses staff of another clinic in the command layer (nothing reaches the board)', async () => {
    clock.set(mondayNoonUtc);
    await expect(recordArrival(deps, { visitId: `v-foreign-${tag}`, clinicId, patientId: bob, staffId }, asStaff(otherClinic))).rejects.toBeInstanceOf(ForbiddenError);
    await expect(startConsultation(deps, { visitId: `v-walk-${tag}`, staffId }, asStaff(otherClinic))).rejects.toBeInstanceOf(ForbiddenError);
    const board = await boardOf(t.db, clinicId, '2025-03-03', mondayNoonUtc);
    expect(board.columns.flatMap((c) => c.cards).map((c) => c.visitId)).not.toContain(`v-foreign-${tag}`);
    expect(board.columns.find((c) => c.stage === 'arrived')!.cards.map((c) => c.visitId)).toEqual([`v-walk-${tag}`]);
  });
});
