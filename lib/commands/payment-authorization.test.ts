/**
 * The payment commands' policy step (issue 8, "authorisation where the data is"; issue 11): a patient
 * acts only on their own payment, staff only on their clinic's, the stuck-payment decisions are an
 * admin's. A refused actor gets ForbiddenError, nothing is appended and nothing is charged.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monday } from '../domain/clinic/fixtures';
import { createEventStore } from '../eventstore';
import type { PaymentGateway } from '../payments/gateway';
import { createSandboxGateway } from '../payments/sandbox';
import { createTestDatabase, storedEvents } from '../testing/db';
import * as commands from '.';
import type { CommandDeps } from './deps';
import { ForbiddenError } from './errors';
import { commandMetadata, type CommandMetadata } from './metadata';
import { manualClock, meta, patientMeta, registerTestClinic, staffMeta } from './testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 8 });
afterAll(() => store.close());
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 10 });
const deps: CommandDeps = { store, clock: manualClock('2025-03-02T00:00:00Z'), payments: { gateway: sandbox as PaymentGateway, provider: 'sandbox' } };
const uid = () => randomBytes(5).toString('hex');

const clinicId = `c-${uid()}`;
const otherClinicId = `c-${uid()}`;
const patientId = `p-${uid()}`;
const reservationId = `r-${uid()}`;
const paymentId = commands.depositPaymentId(reservationId);
let paymentKey = '';

const ownPatient = () => patientMeta(patientId, clinicId);
const ownStaff = () => staffMeta(clinicId);
const admin = () => meta({ actor: { id: 'admin-1', role: 'admin' } });
const otherPatient = () => patientMeta(`p-${uid()}`, clinicId);
const otherStaff = () => staffMeta(otherClinicId, 'staff-9');
const auditor = () => meta({ actor: { id: 'aud-1', role: 'auditor' } });
const staffWithoutClinic = () => commandMetadata({ actor: { id: 'staff-1', role: 'staff' } });

const strangers: Array<[string, () => CommandMetadata]> = [
  ['another patient', otherPatient],
  ['staff of another clinic', otherStaff],
  ['staff without a clinic', staffWithoutClinic],
  ['an auditor', auditor],
];
const notBackOffice: Array<[string, () => CommandMetadata]> = [...strangers, ['the patient themselves', ownPatient]];
const notAdmin: Array<[string, () => CommandMetadata]> = [...notBackOffice, ['staff of the clinic', ownStaff]];
/** Only the process managers (system) apply a deposit to a bill: not even the clinic's staff or an admin. */
const notSystem: Array<[string, () => CommandMetadata]> = [...notAdmin, ['an admin', admin]];

beforeAll(async () => {
  await registerTestClinic(deps, clinicId);
  await registerTestClinic(deps, otherClinicId);
  await commands.bookReservation(deps, { reservationId, clinicId, patientId, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt: monday('11:00') }, ownPatient());
  await commands.requestDeposit(deps, { paymentId, reservationId, clinicId, patientId, amountKrw: 50_000, orderName: 'deposit' }, meta());
  paymentKey = (await sandbox.authorize({ orderId: paymentId, amount: 50_000, cardNumber: '4242424242424242' })).paymentKey;
  await t.sql`insert into pm_pending_payments (payment_id, order_id, requested_at, next_check_at, stuck_at) values (${paymentId}, ${paymentId}, now(), now(), now())`;
});

type Case = { name: string; run: (m: CommandMetadata) => Promise<unknown>; refused: Array<[string, () => CommandMetadata]> };

const cases: Case[] = [
  { name: 'depositCheckout', run: (m) => commands.depositCheckout(deps, paymentId, m), refused: strangers },
  { name: 'startDepositAttempt', run: (m) => commands.startDepositAttempt(deps, { paymentId, cardNumber: '4242424242424242' }, m), refused: strangers },
  { name: 'confirmDeposit', run: (m) => commands.confirmDeposit(deps, { paymentKey, orderId: paymentId, amount: 50_000 }, m), refused: strangers },
  { name: 'recordDepositFailure', run: (m) => commands.recordDepositFailure(deps, { paymentId, paymentKey }, m), refused: strangers },
  { name: 'requestPayment', run: (m) => commands.requestPayment(deps, { paymentId: `bill-${uid()}`, clinicId, patientId, purpose: 'bill', visitId: 'v-1', amountKrw: 1000 }, m), refused: notBackOffice },
  { name: 'authorizePayment', run: (m) => commands.authorizePayment(deps, { paymentId, provider: 'sandbox', providerRef: 'forged', amountKrw: 50_000 }, m), refused: notBackOffice },
  { name: 'capturePayment', run: (m) => commands.capturePayment(deps, { paymentId }, m), refused: notBackOffice },
  { name: 'failPayment', run: (m) => commands.failPayment(deps, { paymentId, reason: 'x' }, m), refused: notBackOffice },
  { name: 'refundPayment', run: (m) => commands.refundPayment(deps, { paymentId, refundId: `rf-${uid()}`, amountKrw: 1000, reason: 'x' }, m), refused: notBackOffice },
  { name: 'applyDeposit', run: (m) => commands.applyDeposit(deps, { paymentId, visitId: 'v-1', amountKrw: 1000, vatKrw: 91 }, m), refused: notSystem },
  { name: 'reconcilePayment', run: (m) => commands.reconcilePayment(deps, paymentId, m), refused: notBackOffice },
  { name: 'reconcilePendingPayments', run: (m) => commands.reconcilePendingPayments(deps, m, { sql: t.sql }), refused: notAdmin },
  { name: 'retryStuckPayment', run: (m) => commands.retryStuckPayment(deps, { paymentId }, m, { sql: t.sql }), refused: notAdmin },
  { name: 'resolveStuckPayment', run: (m) => commands.resolveStuckPayment(deps, { paymentId, note: 'close it' }, m, { sql: t.sql }), refused: notAdmin },
];

describe('payment commands refuse actors who may not act', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.refused.map(([who]) => who).join(', ')} → ForbiddenError, nothing appended or charged`, async () => {
      for (const [who, m] of c.refused) {
        const before = await storedEvents(t.sql);
        await expect(c.run(m()), who).rejects.toBeInstanceOf(ForbiddenError);
        expect(await storedEvents(t.sql), who).toEqual(before);
        expect((await sandbox.getPayment(paymentKey)).status, who).toBe('IN_PROGRESS');
      }
    });
  }

  it('the rightful actors go through: the patient pays their own deposit, their clinic refunds it, an admin resolves', async () => {
    await expect(commands.depositCheckout(deps, paymentId, ownStaff())).resolves.toMatchObject({ state: 'payable' });
    await expect(commands.confirmDeposit(deps, { paymentKey, orderId: paymentId, amount: 50_000 }, ownPatient())).resolves.toMatchObject({ outcome: 'captured' });
    await expect(commands.refundPayment(deps, { paymentId, refundId: `rf-${uid()}`, amountKrw: 10_000, reason: 'goodwill' }, ownStaff())).resolves.toMatchObject({
      state: { refundedKrw: 10_000 },
    });
    await expect(commands.retryStuckPayment(deps, { paymentId }, admin(), { sql: t.sql })).resolves.toMatchObject({ outcome: 'captured' });
  });
});
