/**
 * Migration 0013 fills the process managers' tables of 0009 from a log written before them: every
 * deposit payment of a reservation, and the payment deadline of pay-and-book reservations (so old
 * abandoned checkouts are released too). Run here on events written with no process manager running.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createEventStore } from '../eventstore';
import { createSandboxGateway } from '../payments/sandbox';
import type { PaymentGateway } from '../payments/gateway';
import { createTestDatabase } from '../testing/db';
import { bookReservation, commandMetadata, depositPaymentId, requestDeposit, type CommandDeps } from '../commands';
import { manualClock, meta, patientActor, registerTestClinic } from '../commands/testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 4 });
afterAll(() => store.close());
const deps: CommandDeps = { store, clock: manualClock('2025-03-02T00:00:00Z'), payments: { gateway: createSandboxGateway(t.sql) as PaymentGateway, provider: 'sandbox' } };
const uid = () => randomBytes(5).toString('hex');

it('backfills pm_deposit_payments and pm_payment_deadlines from the log, and leaves consult-first bookings alone', async () => {
  const clinicId = `c-${uid()}`;
  await registerTestClinic(deps, clinicId);
  const patientId = `p-${uid()}`;
  const m = () => commandMetadata({ actor: patientActor(patientId), clinicId });
  const paid = await bookReservation(deps, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt: '2025-03-03T02:00:00Z' }, m());
  const consult = await bookReservation(deps, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: '2025-03-03T05:00:00Z' }, m());
  const paymentId = depositPaymentId(paid.reservationId);
  await requestDeposit(deps, { paymentId, reservationId: paid.reservationId, clinicId, patientId, amountKrw: 50_000, orderName: 'deposit' }, meta());

  const migration = readFileSync(new URL('../../drizzle/0013_pm-deposit-deadline-backfill.sql', import.meta.url), 'utf8');
  for (const statement of migration.split('--> statement-breakpoint')) await t.sql.unsafe(statement);
  for (const statement of migration.split('--> statement-breakpoint')) await t.sql.unsafe(statement); // idempotent

  expect(await t.sql`select payment_id, reservation_id from pm_deposit_payments`).toEqual([{ payment_id: paymentId, reservation_id: paid.reservationId }]);
  const deadlines = await t.sql<{ reservation_id: string; deadline_at: Date }[]>`select reservation_id, deadline_at from pm_payment_deadlines`;
  expect(deadlines.map((d) => d.reservation_id)).toEqual([paid.reservationId]);
  expect(new Date(deadlines[0]!.deadline_at).toISOString()).toBe('2025-03-02T00:30:00.000Z');
  expect(deadlines.map((d) => d.reservation_id)).not.toContain(consult.reservationId);
});
