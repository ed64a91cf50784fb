/**
 * Payments at the desk (issue 9, payments), in the browser against the production build with the real
 * worker and process managers. The set-up goes through the real command layer only (bookings as the
 * patient, the deposit paid through the sandbox gateway as the checkout does, clinic-side steps as that
 * clinic's own staff member); nothing is written to a table.
 *
 * - a booking with a paid deposit is checked in and discharged: the process managers apply the deposit
 *   and ask the bill; the desk's ledger shows the deposit credited and the bill; the balance is collected
 *   by card (the visit board's discharged card shows the bill: total, deposit credited, balance paid); a
 *   refund above the refundable balance is refused with the domain's message, a partial one with a
 *   reason is recorded;
 * - a no-show recorded after the grace period forfeits the deposit as the frozen policy says, and the
 *   patient's page shows the booking as a no-show;
 * - staff of another clinic get 403 for every desk action posted directly (their own forms with the
 *   other clinic's ids put in), with nothing appended, and 403 for the page.
 *
 * The no-show needs a booking whose start is past: it is booked with a command clock set in the past
 * (the commands take their time from deps.clock), with the clinic's payment deadline raised for the
 * booking's moment, so the worker's deadline timer (real time) does not cancel it before it is paid.
 */
import { randomBytes } from 'node:crypto';
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import {
  addTreatment,
  bookReservation,
  changeClinicSettings,
  checkInReservation,
  collectCash,
  commandMetadata,
  confirmDeposit,
  confirmReservation,
  depositPaymentId,
  derivedId,
  discharge,
  loadClinic,
  recordArrival,
  startDepositAttempt,
  SYSTEM_ACTOR,
  type CommandDeps,
} from '../lib/commands';
import { connect, type Database } from '../lib/db/client';
import { atLocal, clinicDay, DomainError, plusMinutes, weekdayOfDay } from '../lib/domain';
import { formatKrw } from '../lib/format';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';
import { expectForbidden, signIn } from './helpers';
import { eventCount } from './me-setup';

const SINSA = 'sinsa-clear';
const APGUJEONG = 'apgujeong-line';
/** Aqua peel: 79 000, deposit 10 000, instant, pay and book. */
const PEEL = 'sinsa-clear-aqua-peel';
const APPROVE = '4242 4242 4242 4242';
const SHOTS = '.data/test-results/desk';
const krw = (n: number) => formatKrw(n, 'ko');

let database: Database;
let store: EventStore;
let deps: CommandDeps;
const ids = {} as Record<'minji' | 'seojun' | 'jiwoo' | 'sinsaStaff' | 'apgujeongStaff', string>;
/** The bill flow's booking, its visit and payments. */
const flow = {} as { reservationId: string; visitId: string; depositId: string; billId: string };

async function userId(email: string): Promise<string> {
  const [row] = await database.sql<{ id: string }[]>`select id::text as id from users where lower(email) = ${email}`;
  if (!row) throw new Error(`no account ${email}`);
  return row.id;
}

const origin = { ip: '127.0.0.1', userAgent: 'e2e set-up' };
const asPatient = (patientId: string, clinicId: string) => commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId, ...origin });
const asStaff = (staffId: string, clinicId: string) => commandMetadata({ actor: { id: staffId, role: 'staff' }, clinicId, ...origin });
const asSystem = (clinicId: string, step: string) => commandMetadata({ actor: SYSTEM_ACTOR, clinicId, ...origin, commandId: `e2e-desk/${clinicId}/${step}/${randomBytes(4).toString('hex')}` });

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const projectedReservation = (id: string, status: string) =>
  until(`${id} ${status}`, async () => (await database.sql`select 1 from rm_reservations where id = ${id} and status = ${status}`).length > 0);
const projectedPayment = (id: string, status: string) =>
  until(`${id} ${status}`, async () => (await database.sql`select 1 from rm_payments where id = ${id} and status = ${status}`).length > 0);

/** The patient pays the deposit through the sandbox, as the checkout does (once the process managers asked it). */
async function payDeposit(reservationId: string, patientId: string, clinicId: string, d: CommandDeps = deps): Promise<string> {
  const paymentId = depositPaymentId(reservationId);
  await until(`the deposit order of ${reservationId}`, async () => (await database.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).length > 0);
  const attempt = await startDepositAttempt(d, { paymentId, cardNumber: APPROVE }, asPatient(patientId, clinicId));
  const outcome = await confirmDeposit(d, attempt, asPatient(patientId, clinicId));
  if (outcome.outcome !== 'captured') throw new Error(`deposit of ${reservationId}: ${outcome.outcome}`);
  return paymentId;
}

/** A weekday at least `ahead` days away (Seoul), for bookings no other spec makes. */
function weekdayAhead(ahead: number): string {
  for (let d = ahead; ; d++) {
    const day = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    const weekday = weekdayOfDay(day);
    if (weekday >= 1 && weekday <= 5) return day;
  }
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
  if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  database = connect(url, { max: 4 });
  store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-desk' });
  deps = commandDepsFor(database.sql, store, masterKey);
  ids.minji = await userId('minji@yeyak.example');
  ids.seojun = await userId('seojun@yeyak.example');
  ids.jiwoo = await userId('jiwoo@yeyak.example');
  ids.sinsaStaff = await userId('sinsa.staff@yeyak.example');
  ids.apgujeongStaff = await userId('apgujeong.staff@yeyak.example');

  // The bill flow: booked ahead, the deposit paid, checked in, the booked peel sold, discharged.
  flow.reservationId = `rsv-desk-${randomBytes(5).toString('hex')}`;
  const startsAt = atLocal(weekdayAhead(55), '13:00').toISOString();
  await bookReservation(deps, { reservationId: flow.reservationId, clinicId: SINSA, patientId: ids.jiwoo, treatmentId: PEEL, kind: 'pay-and-book', startsAt }, asPatient(ids.jiwoo, SINSA));
  flow.depositId = await payDeposit(flow.reservationId, ids.jiwoo, SINSA);
  await projectedReservation(flow.reservationId, 'confirmed');
  flow.visitId = derivedId('visit', flow.reservationId);
  await checkInReservation(deps, { reservationId: flow.reservationId, visitId: flow.visitId, staffId: ids.sinsaStaff }, asStaff(ids.sinsaStaff, SINSA));
  await addTreatment(deps, { visitId: flow.visitId, lineId: 'peel', treatmentId: PEEL, staffId: ids.sinsaStaff }, asStaff(ids.sinsaStaff, SINSA));
  await discharge(deps, { visitId: flow.visitId, staffId: ids.sinsaStaff }, asStaff(ids.sinsaStaff, SINSA));
  flow.billId = derivedId('bill', flow.visitId);
  await projectedPayment(flow.billId, 'requested');
});

test.afterAll(async () => {
  await store?.close();
  await database?.close();
});

const ledgerRow = (page: Page, paymentId: string) => page.getByTestId('ledger').locator(`tr[data-payment="${paymentId}"]`);
const noShowRow = (page: Page, reservationId: string) => page.getByTestId('no-shows').locator(`tr[data-reservation="${reservationId}"]`);

async function screenshots(page: Page, name: string) {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signedIn(browser: Browser, email: string, landing = /\/staff\//): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email);
  await page.waitForURL(landing);
  return page;
}

test('the ledger shows the deposit credited and the bill; the balance is collected by card; a refund above the refundable balance is refused, a partial one recorded', async ({ browser }) => {
  test.setTimeout(90_000);
  const page = await signedIn(browser, 'sinsa.staff@yeyak.example');
  await page.goto(`/staff/${SINSA}/payments`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('수납');
  // 79 000 sold: the 10 000 deposit applied, the bill asks 69 000.
  const deposit = ledgerRow(page, flow.depositId);
  await expect(deposit).toContainText('예약금');
  await expect(deposit).toContainText(`${krw(10_000)} 진료비에 충당`);
  const bill = ledgerRow(page, flow.billId);
  await expect(bill).toContainText('진료비');
  await expect(bill).toContainText('69,000');
  await expect(bill.getByTestId('payment-status')).toHaveText('수납 대기');
  await expect(page.getByTestId('open-bills')).toBeVisible();
  await screenshots(page, 'ledger-open-bill');

  // A card that is not a sandbox test card is refused with the domain's message; nothing charged.
  const card = bill.getByTestId('collect-card-form');
  await card.getByLabel('카드 번호').fill('1234 5678 9012 3456');
  await card.getByRole('button', { name: '카드로 수납' }).click();
  await expect(card.getByRole('alert')).toBeVisible();
  await expect(bill.getByTestId('payment-status')).toHaveText('수납 대기');

  await card.getByLabel('카드 번호').fill(APPROVE);
  await card.getByRole('button', { name: '카드로 수납' }).click();
  await expect(bill.getByTestId('payment-status')).toHaveText('결제 완료');
  await expect(bill).toContainText('카드 · 윤하린 Yoon Harin 수납');

  // The read model has the bill paid by card and the deposit applied; the day's net is rm_payment_days' (captured − refunded).
  await projectedPayment(flow.billId, 'captured');
  const rows = await database.sql<{ id: string; captured_krw: number; applied_krw: number; provider: string }[]>`
    select id, captured_krw, applied_krw, provider from rm_payments where id in (${flow.billId}, ${flow.depositId}) order by purpose`;
  expect(rows.map((r) => [r.id, r.captured_krw, r.applied_krw])).toEqual([
    [flow.billId, 69_000, 0],
    [flow.depositId, 10_000, 10_000],
  ]);
  const [dayRow] = await database.sql<{ net: number }[]>`select captured_krw - refunded_krw as net from rm_payment_days where id = ${`${SINSA}|${clinicDay(new Date())}`}`;
  await expect(page.locator('[data-total="netKrw"]')).toContainText(krw(dayRow!.net));
  expect(dayRow!.net).toBeGreaterThanOrEqual(79_000);

  // The visit board's discharged card shows the same bill: 79 000 sold, the deposit credited, the balance paid.
  await page.goto(`/staff/${SINSA}/board`);
  const cardBill = page.locator(`[data-testid="visit-card"][data-visit="${flow.visitId}"]`).getByTestId('card-bill');
  await expect(cardBill.getByTestId('bill-total')).toHaveText(krw(79_000));
  await expect(cardBill.getByTestId('bill-deposit')).toHaveText(`−${krw(10_000)}`);
  await expect(cardBill.getByTestId('bill-balance')).toHaveText(krw(69_000));
  await expect(cardBill.getByTestId('bill-status')).toHaveText('수납 완료');
  await page.goto(`/staff/${SINSA}/payments`);

  // A refund above what can be refunded (69 000) is refused by the domain; the form says so; nothing appended.
  await bill.getByText('환불…').click();
  const refund = bill.getByTestId('refund-form');
  await expect(bill).toContainText(`환불 가능: ${krw(69_000)}`);
  await refund.getByLabel('환불할 금액 (원)').fill('70000');
  await refund.getByLabel('환불 사유').fill('시술 시간 단축');
  const before = await eventCount(database.sql);
  await refund.getByRole('button', { name: '환불', exact: true }).click();
  await expect(refund.getByRole('alert')).toHaveText('결제된 금액보다 많이 환불할 수 없어요.');
  expect(await eventCount(database.sql)).toBe(before);
  // The reason is required.
  await refund.getByLabel('환불할 금액 (원)').fill('9000');
  await refund.getByLabel('환불 사유').fill('');
  await refund.getByRole('button', { name: '환불', exact: true }).click();
  await expect(refund.getByTestId('error-reason')).toHaveText('사유를 입력해 주세요.');
  // A partial refund with a reason.
  await refund.getByLabel('환불할 금액 (원)').fill('9000');
  await refund.getByLabel('환불 사유').fill('시술 시간 단축');
  await refund.getByRole('button', { name: '환불', exact: true }).click();
  await expect(bill.getByTestId('payment-status')).toHaveText('부분 환불');
  await expect(bill).toContainText(`${krw(9_000)} 환불: 시술 시간 단축`);
  await expect(bill).toContainText(`환불 가능: ${krw(60_000)}`);
  await bill.getByText('환불…').click();
  await screenshots(page, 'ledger-paid');
});

test('a no-show recorded after the grace period forfeits the deposit per the frozen policy; the patient’s page shows it', async ({ browser }) => {
  test.setTimeout(90_000);
  // A booking whose start (plus the 15-minute grace) is past: booked with a command clock 2 h 10 min
  // before that start (the clinic's minimum notice is 2 h), within the clinic's hours on some day of
  // the last 21 hours (Sinsa opens every day; its longest closure is 19 h).
  const clinic = await loadClinic(deps, SINSA);
  const previousDeadline = clinic.settings.paymentDeadlineMinutes;
  await changeClinicSettings(deps, { clinicId: SINSA, paymentDeadlineMinutes: 24 * 60 }, asSystem(SINSA, 'deadline-up'));
  const reservationId = `rsv-desk-noshow-${randomBytes(5).toString('hex')}`;
  let startsAt: Date | null = null;
  try {
    const latest = new Date(Math.floor((Date.now() - 20 * 60_000) / 1_800_000) * 1_800_000);
    for (let s = latest; s.getTime() > Date.now() - 21 * 3_600_000; s = plusMinutes(s, -30)) {
      const clock = plusMinutes(s, -130);
      try {
        await bookReservation(
          { ...deps, clock: () => clock },
          { reservationId, clinicId: SINSA, patientId: ids.minji, treatmentId: PEEL, kind: 'pay-and-book', startsAt: s.toISOString() },
          asPatient(ids.minji, SINSA),
        );
        startsAt = s;
        break;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error; // closed then, or full: try the slot before
      }
    }
    if (!startsAt) throw new Error('no past slot of Sinsa could be booked in the last 21 hours');
    await payDeposit(reservationId, ids.minji, SINSA);
    await projectedReservation(reservationId, 'confirmed');
  } finally {
    await changeClinicSettings(deps, { clinicId: SINSA, paymentDeadlineMinutes: previousDeadline }, asSystem(SINSA, 'deadline-back'));
  }

  const page = await signedIn(browser, 'sinsa.staff@yeyak.example');
  await page.goto(`/staff/${SINSA}/payments?day=${clinicDay(startsAt)}`);
  const row = noShowRow(page, reservationId);
  await expect(row).toContainText('김민지 Kim Minji');
  await expect(row).toContainText(`${krw(10_000)} 공제`);
  await screenshots(page, 'no-shows');
  await row.getByRole('button', { name: '노쇼 처리' }).click();
  await expect(row).toContainText('노쇼 처리됨');
  // The frozen policy (no-shows forfeit the deposit): nothing is refunded.
  await projectedReservation(reservationId, 'no-show');
  const [r] = await database.sql<{ deposit_status: string; refund_due_krw: number }[]>`select deposit_status, refund_due_krw from rm_reservations where id = ${reservationId}`;
  expect(r).toEqual({ deposit_status: 'forfeited', refund_due_krw: 0 });
  const [p] = await database.sql<{ refunded_krw: number }[]>`select refunded_krw from rm_payments where id = ${depositPaymentId(reservationId)}`;
  expect(p).toEqual({ refunded_krw: 0 });
  // Withheld on the day it was recorded.
  await page.goto(`/staff/${SINSA}/payments`);
  await expect(ledgerRow(page, depositPaymentId(reservationId))).toContainText(`${krw(10_000)} 공제`);

  const patient = await signedIn(browser, 'minji@yeyak.example', /\/(me|$)/);
  await patient.goto(`/me/reservations/${reservationId}`);
  await expect(patient.getByRole('main')).toContainText('노쇼');
});

test('staff of another clinic get 403 for every desk action posted directly (nothing appended) and for the page', async ({ browser }) => {
  test.setTimeout(120_000);
  // Apgujeong's own rows, so its staff member has real forms to tamper with: an open bill, a paid one
  // (a refund form), a confirmed booking (a no-show form).
  const staff = () => asStaff(ids.apgujeongStaff, APGUJEONG); // a new command id per command
  const openVisit = `visit-desk-open-${randomBytes(4).toString('hex')}`;
  const paidVisit = `visit-desk-paid-${randomBytes(4).toString('hex')}`;
  for (const visitId of [openVisit, paidVisit]) {
    await recordArrival(deps, { visitId, clinicId: APGUJEONG, patientId: ids.seojun, staffId: ids.apgujeongStaff }, staff());
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'apgujeong-line-eyelid-nonincision', staffId: ids.apgujeongStaff }, staff());
    await discharge(deps, { visitId, staffId: ids.apgujeongStaff }, staff());
  }
  await projectedPayment(derivedId('bill', paidVisit), 'requested');
  await collectCash(deps, { paymentId: derivedId('bill', paidVisit), amountKrw: 1_500_000, staffId: ids.apgujeongStaff }, staff());
  await projectedPayment(derivedId('bill', paidVisit), 'captured');
  await projectedPayment(derivedId('bill', openVisit), 'requested');
  const day = weekdayAhead(57);
  const ownBooking = `rsv-desk-own-${randomBytes(5).toString('hex')}`;
  await bookReservation(
    deps,
    { reservationId: ownBooking, clinicId: APGUJEONG, patientId: ids.jiwoo, treatmentId: 'apgujeong-line-eyelid-nonincision', kind: 'consult-first', startsAt: atLocal(day, '16:00').toISOString() },
    asPatient(ids.jiwoo, APGUJEONG),
  );
  await projectedReservation(ownBooking, 'requested');
  await confirmReservation(deps, { reservationId: ownBooking, staffId: ids.apgujeongStaff }, staff());
  await projectedReservation(ownBooking, 'confirmed');

  const page = await signedIn(browser, 'apgujeong.staff@yeyak.example');
  const response = await page.goto(`/staff/${SINSA}/payments`);
  expect(response?.status()).toBe(403);
  await expectForbidden(page);

  const set = async (form: Locator, name: string, value: string) => {
    await form.locator(`input[name="${name}"]`).evaluate((el, v) => void ((el as HTMLInputElement).value = v), value);
  };
  const today = `/staff/${APGUJEONG}/payments`;
  const attempts: Array<{ name: string; path: string; form: (p: Page) => Locator; tamper: (f: Locator) => Promise<void>; button: string | RegExp }> = [
    {
      name: 'collect by card',
      path: today,
      form: (p) => ledgerRow(p, derivedId('bill', openVisit)).getByTestId('collect-card-form'),
      tamper: async (f) => {
        await set(f, 'paymentId', flow.billId);
        await f.getByLabel('카드 번호').fill(APPROVE);
      },
      button: '카드로 수납',
    },
    { name: 'collect cash', path: today, form: (p) => ledgerRow(p, derivedId('bill', openVisit)).getByTestId('collect-cash-form'), tamper: (f) => set(f, 'paymentId', flow.billId), button: /현금/ },
    {
      name: 'refund',
      path: today,
      form: (p) => ledgerRow(p, derivedId('bill', paidVisit)).getByTestId('refund-form'),
      tamper: async (f) => {
        await f.page().locator(`tr[data-payment="${derivedId('bill', paidVisit)}"]`).getByText('환불…').click();
        await set(f, 'paymentId', flow.billId);
        await f.getByLabel('환불할 금액 (원)').fill('1000');
        await f.getByLabel('환불 사유').fill('tampered');
      },
      button: '환불',
    },
    { name: 'no-show', path: `${today}?day=${day}`, form: (p) => noShowRow(p, ownBooking).getByTestId('no-show-form'), tamper: (f) => set(f, 'reservationId', flow.reservationId), button: '노쇼 처리' },
  ];
  for (const attempt of attempts) {
    await page.goto(attempt.path);
    const form = attempt.form(page);
    await attempt.tamper(form);
    const before = await eventCount(database.sql);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST');
    await form.getByRole('button', { name: attempt.button, exact: typeof attempt.button === 'string' }).click();
    expect((await posted).status(), attempt.name).toBe(403);
    await expectForbidden(page);
    expect(await eventCount(database.sql), attempt.name).toBe(before);
  }
  // Sinsa's bill is as it was (paid by card, 9 000 refunded, in the first test), its booking completed at the discharge.
  const [bill] = await database.sql<{ status: string; refunded_krw: number }[]>`select status, refunded_krw from rm_payments where id = ${flow.billId}`;
  expect(bill).toEqual({ status: 'partially-refunded', refunded_krw: 9_000 });
  await projectedReservation(flow.reservationId, 'completed');
  // A patient gets 403 for the page too.
  const patient = await signedIn(browser, 'seojun@yeyak.example', /\/(me|$)/);
  expect((await patient.goto(`/staff/${SINSA}/payments`))?.status()).toBe(403);
});
