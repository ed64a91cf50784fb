import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookReservation, cancelReservation, commandMetadata, recordDepositPaid, rescheduleReservation, SYSTEM_ACTOR, type CommandDeps } from '../commands';
import { manualClock, patientActor, registerTestClinic } from '../commands/testing';
import { monday, tuesday } from '../domain/clinic/fixtures';
import { createEventStore, type EventStore } from '../eventstore';
import { rebuildProjections } from '../projections/rebuild';
import { projectionByName } from '../projections/registry';
import { createTestDatabase } from '../testing/db';
import { cancellationPreviewOf, reschedulePreviewOf, reservationOf, reservationsOf } from './reservations';

const t = await createTestDatabase();
let store: EventStore;
// Sunday 2025-03-02 09:00 in Seoul; Monday's and Tuesday's slots are bookable.
const clock = manualClock('2025-03-02T00:00:00Z');
let deps: CommandDeps;
const clinicId = `c-${randomBytes(4).toString('hex')}`;
const alice = `p-alice-${randomBytes(3).toString('hex')}`;
const bob = `p-bob-${randomBytes(3).toString('hex')}`;
const ids = { moved: `r-moved-${randomBytes(3).toString('hex')}`, paid: `r-paid-${randomBytes(3).toString('hex')}`, cancelled: `r-cx-${randomBytes(3).toString('hex')}`, bobs: `r-bob-${randomBytes(3).toString('hex')}` };

const utc = (at: string) => new Date(at).toISOString();
const asPatient = (patientId: string) => commandMetadata({ actor: patientActor(patientId), clinicId, ip: '203.0.113.7', userAgent: 'vitest' });
const asSystem = () => commandMetadata({ actor: SYSTEM_ACTOR, clinicId });

/** Builds the read models the queries use from the log (again, until they hold every reservation: readAll can lag under a busy server). */
async function project(expected: number) {
  const projections = ['reservations', 'payment-ledger', 'catalogue'].map((n) => projectionByName(n)!);
  for (let attempt = 0; ; attempt++) {
    await rebuildProjections({ store, database: t, projections });
    const [{ n }] = (await t.sql`select count(*)::int as n from rm_reservations`) as unknown as [{ n: number }];
    if (n >= expected || attempt >= 20) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'reservations-query-test-key' });
  deps = { store, clock };
  await registerTestClinic(deps, clinicId, { slotCapacity: 2 });
  const book = (id: string, patientId: string, startsAt: string, treatmentId: string, kind: 'consult-first' | 'pay-and-book') =>
    bookReservation(deps, { reservationId: id, clinicId, patientId, treatmentId, kind, startsAt }, asPatient(patientId));
  await book(ids.moved, alice, monday('11:00'), 'tx-consult', 'consult-first');
  await book(ids.paid, alice, monday('15:00'), 'tx-botox', 'pay-and-book');
  await book(ids.cancelled, alice, tuesday('10:00'), 'tx-consult', 'consult-first');
  await book(ids.bobs, bob, monday('11:00'), 'tx-consult', 'consult-first');
  await recordDepositPaid(deps, { reservationId: ids.paid, paymentId: 'pay-1', amountKrw: 50_000 }, asSystem());
  clock.advanceMinutes(30);
  await rescheduleReservation(deps, { reservationId: ids.moved, startsAt: monday('12:00'), by: 'patient' }, asPatient(alice));
  await cancelReservation(deps, { reservationId: ids.cancelled, by: 'patient', reason: 'patient: schedule' }, asPatient(alice));
  await project(4);
});
afterAll(() => store?.close());

describe('reservationsOf', () => {
  it("lists the patient's own reservations only: upcoming soonest first, closed ones as past", async () => {
    const now = new Date('2025-03-02T01:00:00Z');
    const mine = await reservationsOf(t.db, alice, now);
    expect(mine.upcoming.map((r) => r.id)).toEqual([ids.moved, ids.paid]);
    expect(mine.past.map((r) => r.id)).toEqual([ids.cancelled]);
    const all = [...mine.upcoming, ...mine.past];
    expect(all.some((r) => r.id === ids.bobs)).toBe(false);
    expect(all.every((r) => r.clinicNameEn === `Test clinic ${clinicId}` || r.clinicNameKo === `Test clinic ${clinicId}`)).toBe(true);

    const bobs = await reservationsOf(t.db, bob, now);
    expect([...bobs.upcoming, ...bobs.past].map((r) => r.id)).toEqual([ids.bobs]);
    expect(await reservationsOf(t.db, 'p-nobody', now)).toEqual({ upcoming: [], past: [] });
  });

  it('carries each reservation’s timeline in order, with the move and the cancellation’s fee and refund', async () => {
    const { upcoming, past } = await reservationsOf(t.db, alice, new Date('2025-03-02T01:00:00Z'));
    const moved = upcoming.find((r) => r.id === ids.moved)!;
    expect(moved.timeline.map((s) => s.type)).toEqual(['requested', 'confirmed', 'rescheduled']);
    expect(moved.timeline[2]).toMatchObject({ by: 'patient', previousStartsAt: utc(monday('11:00')), startsAt: utc(monday('12:00')), feeKrw: 0 });
    expect(moved.startsAt.toISOString()).toBe(utc(monday('12:00')));
    const paid = upcoming.find((r) => r.id === ids.paid)!;
    expect(paid.timeline.map((s) => s.type)).toEqual(['requested', 'deposit-paid', 'confirmed']);
    expect(paid.timeline[1]).toMatchObject({ amountKrw: 50_000 });
    expect(past[0]!.timeline.at(-1)).toMatchObject({ type: 'cancelled', by: 'patient', feeKrw: 0, refundDueKrw: 0 });
    // Stored times are the events' own (the command clock's).
    expect(moved.timeline[2]!.at).toBe('2025-03-02T00:30:00.000Z');
  });
});

describe('reservationOf', () => {
  it("another patient's reservation reads as absent, never as data", async () => {
    expect(await reservationOf(t.db, bob, ids.paid)).toBeNull();
    expect(await reservationOf(t.db, alice, ids.bobs)).toBeNull();
    expect(await reservationOf(t.db, alice, 'r-does-not-exist')).toBeNull();
  });

  it('gives the owner the reservation with its frozen policy and whether it can still change', async () => {
    const r = (await reservationOf(t.db, alice, ids.paid, new Date('2025-03-02T01:00:00Z')))!;
    expect(r).toMatchObject({ id: ids.paid, status: 'confirmed', depositPaidKrw: 50_000, depositDueKrw: 50_000, changeable: true, refundPendingKrw: 0 });
    expect(r.policy).toMatchObject({ freeCancellationHours: 24, lateCancellationFeeKrw: 30_000 });
    // After the start a patient can change nothing.
    expect((await reservationOf(t.db, alice, ids.paid, new Date(monday('15:30'))))!.changeable).toBe(false);
    expect((await reservationOf(t.db, alice, ids.cancelled))!.changeable).toBe(false);
  });
});

describe('what a change would cost', () => {
  it('is decided by the reservation itself under the frozen policy: free outside the window, the late fee inside it', async () => {
    const early = await cancellationPreviewOf(deps, alice, ids.paid, new Date('2025-03-02T01:00:00Z'));
    expect(early).toMatchObject({ kind: 'ok', feeKrw: 0, refundKrw: 50_000, late: false, depositPaidKrw: 50_000 });
    // Monday 10:00 Seoul: five hours before the 15:00 start, inside the 24-hour window.
    const late = await cancellationPreviewOf(deps, alice, ids.paid, new Date(monday('10:00')));
    expect(late).toMatchObject({ kind: 'ok', feeKrw: 30_000, refundKrw: 20_000, late: true });
    const move = await reschedulePreviewOf(deps, alice, ids.paid, monday('16:00'), new Date(monday('10:00')));
    expect(move).toMatchObject({ kind: 'ok', feeKrw: 30_000, refundKrw: 0, startsAt: utc(monday('16:00')) });
  });

  it("appends nothing, refuses what the domain refuses, and gives another patient nothing", async () => {
    const [{ n: before }] = (await t.sql`select count(*)::int as n from es_events`) as unknown as [{ n: number }];
    expect(await cancellationPreviewOf(deps, bob, ids.paid)).toBeNull();
    expect(await reschedulePreviewOf(deps, bob, ids.paid, monday('16:00'))).toBeNull();
    expect(await cancellationPreviewOf(deps, alice, 'not a valid id!')).toBeNull();
    expect(await cancellationPreviewOf(deps, alice, ids.cancelled)).toEqual({ kind: 'nothing-to-do' });
    // Off the slot grid: the reservation's own refusal, with its code.
    const offGrid = await reschedulePreviewOf(deps, alice, ids.paid, monday('16:07'), new Date('2025-03-02T01:00:00Z'));
    expect(offGrid?.kind).toBe('refused');
    const [{ n: after }] = (await t.sql`select count(*)::int as n from es_events`) as unknown as [{ n: number }];
    expect(after).toBe(before);
  });
});
