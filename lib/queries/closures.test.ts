/**
 * Running the clinic's read side (issue 9, item 5) against a real database, real commands and the
 * real projection worker: a manager closes a day that already has bookings → no slot is offered on
 * it, a new booking or a move onto it is refused (and appends nothing), and `closedDayBookings` lists
 * the bookings still on it for the desk to move or cancel (recording the names it shows in the access
 * log); the catalogue carries the closures, every setting (the board's stage thresholds) and changed
 * treatment details. Plain staff read the list but cannot close a day; other clinics' staff get 403.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  bookReservation,
  cancelReservation,
  changeClinicSettings,
  changeTreatmentDetails,
  closeDay,
  ForbiddenError,
  registerPatient,
  reopenDay,
  rescheduleReservation,
  type CommandDeps,
} from '@/lib/commands';
import { managerMeta, manualClock, patientMeta, registerTestClinic, staffMeta } from '@/lib/commands/testing';
import { users, type Role } from '@/lib/db/schema';
import { BookingOnClosedDayError } from '@/lib/domain/clinic';
import { monday, tuesday } from '@/lib/domain/clinic/fixtures';
import { createEventStore, type EventStore, type Position } from '@/lib/eventstore';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { allProjections } from '@/lib/projections/registry';
import { waitForProjections } from '@/lib/projections/wait';
import { ProjectionWorker } from '@/lib/projections/worker';
import { eventually } from '@/lib/testing/eventually';
import { createTestDatabase, storedEvents } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', () => import('@/lib/testing/next-request'));
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = `cl-${randomUUID().slice(0, 6)}`;
const OTHER = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@closures.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const manager = { ...account('staff', CLINIC), clinicManager: true };
const staff = account('staff', CLINIC);
const otherStaff = account('staff', OTHER);
const alice = `p-${randomBytes(4).toString('hex')}`;
const bob = `p-${randomBytes(4).toString('hex')}`;
/** Sunday 2025-03-02 09:00 Seoul; Monday 2025-03-03 is the day that gets closed. */
const now = new Date('2025-03-02T00:00:00Z');
const MONDAY = '2025-03-03';
const rid = () => `r-${randomBytes(5).toString('hex')}`;

let store: EventStore;
let worker: ProjectionWorker;
let deps: CommandDeps;
const reservations = { alice: rid(), bob: rid(), cancelled: rid() };

const caughtUp = async (position: Position | null) => expect(await waitForProjections(position!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');

beforeAll(async () => {
  await t.db.insert(users).values([manager, staff, otherStaff].map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY!;
  deps = { store, clock: manualClock(now.toISOString()), privacy: createPersonalDataVault(t.sql, masterKey) };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: createPersonalDataVault(t.sql, masterKey), statusIntervalMs: 200 });
  await worker.start();
  await registerTestClinic(deps, CLINIC);
  // Treatment ids are global in the catalogue: the other clinic lists none.
  await registerTestClinic(deps, OTHER, { treatments: [] });
  await registerPatient(deps, { patientId: alice, name: '김앨리스', phone: '010-1111-2222', email: `${alice}@example.com`, birthDate: '1991-01-01', locale: 'ko' }, patientMeta(alice));
  await registerPatient(deps, { patientId: bob, name: 'Bob Lee', phone: '010-3333-4444', email: `${bob}@example.com`, birthDate: '1985-05-05', locale: 'en' }, patientMeta(bob));
  const book = (reservationId: string, pid: string, treatmentId: string, at: string) =>
    bookReservation(deps, { reservationId, clinicId: CLINIC, patientId: pid, treatmentId, kind: 'consult-first', startsAt: at }, patientMeta(pid, CLINIC));
  await book(reservations.alice, alice, 'tx-ulthera', monday('11:00')); // clinic-confirm: requested
  await book(reservations.bob, bob, 'tx-consult', monday('15:00')); // instant: confirmed
  await book(reservations.cancelled, bob, 'tx-consult', monday('16:00'));
  const last = await cancelReservation(deps, { reservationId: reservations.cancelled, by: 'patient', reason: 'changed my mind' }, patientMeta(bob, CLINIC));
  await caughtUp(last.position);
});
afterAll(async () => {
  await worker?.stop();
  await store?.close();
});

const q = () => import('./closures');
const catalogue = () => import('./catalogue');
const availability = () => import('./availability');
const accessLog = () => t.sql`select account_id, resource, patient_ids, detail from access_log order by id`;

describe('closing a day that has bookings', () => {
  it('plain staff cannot close it (403 at the command layer, nothing appended); the manager can', async () => {
    const before = await storedEvents(t.sql);
    await expect(closeDay(deps, { clinicId: CLINIC, day: MONDAY, reason: '임시 휴진' }, staffMeta(CLINIC, staff.id))).rejects.toBeInstanceOf(ForbiddenError);
    await expect(closeDay(deps, { clinicId: CLINIC, day: MONDAY, reason: '임시 휴진' }, managerMeta(OTHER, otherStaff.id))).rejects.toBeInstanceOf(ForbiddenError);
    expect(await storedEvents(t.sql)).toEqual(before);
    const closed = await closeDay(deps, { clinicId: CLINIC, day: MONDAY, reason: '임시 휴진' }, managerMeta(CLINIC, manager.id));
    expect(closed.events.map((e) => [e.type, e.data])).toEqual([['DayClosed', { day: MONDAY, reason: '임시 휴진' }]]);
    await caughtUp(closed.position);
  });

  it('then the public catalogue shows the closure, no slot is offered that day, the next day still has its slots', async () => {
    await eventually(async () => expect((await (await catalogue()).getClinicWithTreatments(CLINIC))?.closedDays).toEqual({ [MONDAY]: '임시 휴진' }));
    const { dayAvailability, bookableDays } = await availability();
    const monday_ = await dayAvailability(CLINIC, 'tx-consult', MONDAY, now);
    expect(monday_).toMatchObject({ day: MONDAY, bookable: true, open: false, closedReason: '임시 휴진', slots: [] });
    expect((await dayAvailability(CLINIC, 'tx-consult', '2025-03-04', now))?.slots.length).toBeGreaterThan(0);
    const clinic = (await (await catalogue()).getClinicWithTreatments(CLINIC))!;
    expect(bookableDays(clinic, now).find((d) => d.day === MONDAY)).toEqual({ day: MONDAY, open: false, closedReason: '임시 휴진' });
  });

  it('then a new booking or a move onto the closed day is refused with booking.clinic_closed, and nothing is appended', async () => {
    const before = await storedEvents(t.sql);
    await expect(
      bookReservation(deps, { reservationId: rid(), clinicId: CLINIC, patientId: alice, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('12:00') }, patientMeta(alice, CLINIC)),
    ).rejects.toMatchObject({ code: 'booking.clinic_closed' });
    await expect(rescheduleReservation(deps, { reservationId: reservations.bob, startsAt: monday('17:00'), by: 'staff' }, staffMeta(CLINIC, staff.id))).rejects.toBeInstanceOf(BookingOnClosedDayError);
    expect(await storedEvents(t.sql)).toEqual(before);
  });

  it("then the desk's list shows the day with the bookings still on it (not the cancelled one), and records the names it shows", async () => {
    await signInAs(staff);
    const before = (await accessLog()).length;
    const days = await (await q()).closedDayBookings(CLINIC, now);
    expect(days.map((d) => [d.day, d.reason])).toEqual([[MONDAY, '임시 휴진']]);
    expect(days[0]!.bookings.map((b) => [b.reservationId, b.patientName, b.status, b.startsAt])).toEqual([
      [reservations.alice, '김앨리스', 'requested', new Date(monday('11:00')).toISOString()],
      [reservations.bob, 'Bob Lee', 'confirmed', new Date(monday('15:00')).toISOString()],
    ]);
    const added = (await accessLog()).slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ account_id: staff.id, resource: 'patient-name', detail: { page: 'closures' } });
    expect([...added[0]!.patient_ids].sort()).toEqual([alice, bob].sort());
    // Today for that day says it is closed and offers no seats; its arrivals are still listed.
    const today = await (await import('./staff')).staffToday(CLINIC, MONDAY, now);
    expect(today!.desk).toMatchObject({ closedReason: '임시 휴진', slots: [] });
    expect(today!.desk.arrivals.map((r) => r.id)).toEqual([reservations.bob]);
    expect((await (await import('./staff')).staffToday(CLINIC, '2025-03-04', now))!.desk).toMatchObject({ closedReason: null, slots: expect.arrayContaining([expect.objectContaining({ time: '10:00' })]) });
  });

  it('then moving one booking to another day and cancelling the other empties the list', async () => {
    await rescheduleReservation(deps, { reservationId: reservations.bob, startsAt: tuesday('15:00'), by: 'staff' }, staffMeta(CLINIC, staff.id));
    const cancelled = await cancelReservation(deps, { reservationId: reservations.alice, by: 'staff', reason: 'clinic closed' }, staffMeta(CLINIC, staff.id));
    await caughtUp(cancelled.position);
    await signInAs(manager);
    expect((await (await q()).closedDayBookings(CLINIC, now)).map((d) => [d.day, d.bookings])).toEqual([[MONDAY, []]]);
  });

  it("another clinic's staff get 403 and nothing is recorded; the list starts from today", async () => {
    const before = await accessLog();
    await signInAs(otherStaff);
    expect(await outcome(async () => (await q()).closedDayBookings(CLINIC, now))).toBe('forbidden');
    expect(await accessLog()).toEqual(before);
    await signInAs(staff);
    expect(await (await q()).closedDayBookings(CLINIC, new Date('2025-03-04T00:00:00Z'))).toEqual([]);
  });

  it('when the manager reopens the day, its slots are offered again', async () => {
    const reopened = await reopenDay(deps, { clinicId: CLINIC, day: MONDAY }, managerMeta(CLINIC, manager.id));
    expect(reopened.events.map((e) => [e.type, e.data])).toEqual([['DayReopened', { day: MONDAY, previousReason: '임시 휴진' }]]);
    await caughtUp(reopened.position);
    await eventually(async () => expect((await (await availability()).dayAvailability(CLINIC, 'tx-consult', MONDAY, now))?.slots.length).toBeGreaterThan(0));
  });
});

describe('settings and treatment details in the catalogue read model', () => {
  it("the manager's stage thresholds and no-show grace reach clinicSettings (the board reads them); other settings keep their values", async () => {
    await changeClinicSettings(deps, { clinicId: CLINIC, noShowGraceMinutes: 20 }, managerMeta(CLINIC, manager.id));
    const changed = await changeClinicSettings(deps, { clinicId: CLINIC, stageThresholdMinutes: { procedure: 120 } }, managerMeta(CLINIC, manager.id));
    await caughtUp(changed.position);
    await eventually(async () =>
      expect((await (await catalogue()).getClinicWithTreatments(CLINIC))?.clinicSettings).toEqual({
        bookingHorizonDays: 90,
        paymentDeadlineMinutes: 30,
        noShowGraceMinutes: 20,
        stageThresholdMinutes: { arrived: 15, consultation: 30, procedure: 120, recovery: 60 },
      }),
    );
  });

  it("a treatment's changed duration, kinds and tax category are what the catalogue lists and availability uses", async () => {
    const changed = await changeTreatmentDetails(deps, { clinicId: CLINIC, treatmentId: 'tx-botox', durationMinutes: 60, bookingKinds: ['pay-and-book'], taxCategory: 'exempt' }, managerMeta(CLINIC, manager.id));
    await caughtUp(changed.position);
    await eventually(async () => {
      const botox = (await (await catalogue()).getClinicWithTreatments(CLINIC))?.treatments.find((x) => x.id === 'tx-botox');
      expect(botox).toMatchObject({ durationMinutes: 60, bookingKinds: ['pay-and-book'], taxCategory: 'exempt', consultDurationMinutes: 30, nameKo: 'Botox (forehead)' });
    });
    // 60 minutes from 12:30 would run into lunch: not offered; 12:00 is.
    const day = await (await availability()).dayAvailability(CLINIC, 'tx-botox', '2025-03-04', now);
    expect(day!.slots.map((s) => s.time)).toContain('12:00');
    expect(day!.slots.map((s) => s.time)).not.toContain('12:30');
  });
});
