/**
 * The clinic's statistics (lib/queries/stats.ts) on a real database: bookings, a cancellation, a deposit
 * paid and partly refunded, and a no-show, all through the command layer with the real process managers,
 * sandbox gateway and projection worker; then the 30 Seoul days read back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/eventually';
import { reservation, streams } from '../domain';
import { monday } from '../domain/clinic/fixtures';
import type { ActiveReservation } from '../domain/reservation';
import { createEventStore, type EventStore, type Position } from '../eventstore';
import type { PaymentGateway } from '../payments/gateway';
import { createSandboxGateway } from '../payments/sandbox';
import { startProcessManagers, type ProcessManagers } from '../process-managers';
import { allProjections } from '../projections/registry';
import { waitForProjections } from '../projections/wait';
import { ProjectionWorker } from '../projections/worker';
import { createTestDatabase } from '../testing/db';
import { bookReservation, cancelReservation, commandMetadata, confirmDeposit, depositPaymentId, loadStream, recordNoShow, refundPayment, startDepositAttempt, type CommandDeps } from '../commands';
import { manualClock, patientActor, registerTestClinic, staffMeta } from '../commands/testing';
import { clinicStatsOf } from './stats';

const t = await createTestDatabase();
let store: EventStore;
let deps: CommandDeps;
let pm: ProcessManagers;
let worker: ProjectionWorker;
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
// Sunday 2025-03-02 09:00 in Seoul: Monday's slots are bookable.
const clock = manualClock('2025-03-02T00:00:00Z');
const tag = randomBytes(3).toString('hex');
const clinicId = `c-stats-${tag}`;
const otherClinic = `c-stats-other-${tag}`;
const staffId = randomUUID();
const desk = () => staffMeta(clinicId, staffId);
const uid = () => randomBytes(5).toString('hex');

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'stats-test-key-at-least-16' });
  const payments = { gateway: sandbox as PaymentGateway, provider: 'sandbox' };
  deps = { store, clock, payments };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), statusIntervalMs: 200 });
  await worker.start();
  pm = await startProcessManagers({ store, sql: t.sql, payments, clock, timerIntervalMs: 0, paymentCheckDelayMs: 60_000, groupSettings: { checkpointAfterMs: 50, maxRetryCount: 2 } });
  await registerTestClinic(deps, clinicId);
  await registerTestClinic(deps, otherClinic);
}, 60_000);
afterAll(async () => {
  await pm?.stop();
  await worker?.stop();
  await store?.close();
});

async function projected(position: Position | null | undefined) {
  if (position) expect(await waitForProjections(position, { sql: t.sql, timeoutMs: 20_000 })).toBe('caught-up');
}
const reservationState = async (id: string) => (await loadStream(store, reservation.reservationDecider, streams.reservation(id))).state as ActiveReservation;

async function book(treatmentId: string, kind: 'pay-and-book' | 'consult-first', time: string) {
  const patientId = `p-${uid()}`;
  const reservationId = `r-${uid()}`;
  const patient = commandMetadata({ actor: patientActor(patientId), clinicId });
  const result = await bookReservation(deps, { reservationId, clinicId, patientId, treatmentId, kind, startsAt: monday(time) }, patient);
  return { reservationId, patientId, patient, result };
}

describe('clinic statistics (clinicStatsOf)', () => {
  it('counts bookings, cancellations and revenue by the day they happened, the no-show rate over appointments that reached their time, and the top treatments', async () => {
    // Sunday: four bookings for Monday; one cancelled; a Botox deposit (50 000) paid, 10 000 of it refunded.
    const paid = await book('tx-botox', 'pay-and-book', '11:00');
    const paymentId = depositPaymentId(paid.reservationId);
    await eventually(async () => expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1));
    const auth = await startDepositAttempt(deps, { paymentId, cardNumber: '4242 4242 4242 4242' }, paid.patient);
    expect((await confirmDeposit(deps, auth, paid.patient)).outcome).toBe('captured');
    await eventually(async () => expect(await reservationState(paid.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 }));
    await refundPayment(deps, { paymentId, refundId: `rf-${uid()}`, amountKrw: 10_000, reason: 'goodwill' }, desk());
    const missed = await book('tx-consult', 'consult-first', '15:00');
    const later = await book('tx-consult', 'consult-first', '17:00');
    const cancelled = await book('tx-consult', 'consult-first', '16:00');
    await cancelReservation(deps, { reservationId: cancelled.reservationId, by: 'patient', reason: 'plans changed' }, cancelled.patient);
    // Monday 15:20: the 15:00 consultation is a no-show (default grace 15 minutes).
    clock.set(monday('15:20'));
    const noShow = await recordNoShow(deps, { reservationId: missed.reservationId, staffId }, desk());
    await projected(noShow.position);
    await eventually(async () => expect((await t.sql`select refunded_krw from rm_clinic_daily_stats where clinic_id = ${clinicId} and day = '2025-03-02'`)[0]?.refunded_krw).toBe(10_000));

    const stats = await clinicStatsOf(t.db, clinicId, new Date(monday('15:30')));
    expect(stats).toMatchObject({ today: '2025-03-03', from: '2025-02-02' });
    expect(stats.days).toHaveLength(30);
    expect(stats.days[0]!.day).toBe('2025-02-02');
    const sunday = stats.days.find((d) => d.day === '2025-03-02')!;
    expect(sunday).toMatchObject({ bookings: 4, cancellations: 1, capturedKrw: 50_000, refundedKrw: 10_000, revenueKrw: 40_000, due: 0, noShowRate: null });
    // Monday so far: 11:00 (confirmed) and 15:00 (no-show) reached their time; 17:00 has not, 16:00 was cancelled.
    expect(stats.todayTotals).toMatchObject({ day: '2025-03-03', bookings: 0, noShows: 1, due: 2, noShowRate: 0.5 });
    expect(stats.periodTotals).toMatchObject({ bookings: 4, cancellations: 1, noShows: 1, due: 2, noShowRate: 0.5, revenueKrw: 40_000 });
    expect(stats.days.filter((d) => d.day < '2025-03-02').every((d) => d.bookings === 0 && d.revenueKrw === 0 && d.noShowRate === null)).toBe(true);
    // Top treatments: the cancelled one does not count; the 17:00 booking does.
    expect(stats.topPeriod.map((x) => [x.treatmentId, x.reservations])).toEqual([
      ['tx-consult', 2],
      ['tx-botox', 1],
    ]);
    expect(stats.topToday).toEqual(stats.topPeriod);
    expect(stats.topPeriod[0]!.treatmentName).toBeTruthy();
    void later;

    // A day later, the period moves with it; another clinic sees none of it.
    const tuesday = await clinicStatsOf(t.db, clinicId, new Date('2025-03-04T03:00:00Z'));
    expect(tuesday.todayTotals).toMatchObject({ day: '2025-03-04', bookings: 0, due: 0, noShowRate: null });
    expect(tuesday.topToday).toEqual([]);
    // Monday's 17:00 has now reached its time: three due, one no-show.
    expect(tuesday.periodTotals).toMatchObject({ due: 3, noShows: 1 });
    expect(tuesday.periodTotals.noShowRate).toBeCloseTo(1 / 3);
    const other = await clinicStatsOf(t.db, otherClinic, new Date(monday('15:30')));
    expect(other.periodTotals).toMatchObject({ bookings: 0, cancellations: 0, noShows: 0, due: 0, revenueKrw: 0, noShowRate: null });
    expect(other.topPeriod).toEqual([]);
  });
});
