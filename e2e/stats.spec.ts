/**
 * The clinic's statistics (issue 9, item 4) in the browser against the production build with the real
 * worker and process managers. The set-up goes through the real command layer only (bookings and a
 * cancellation as the patient, a deposit paid through the sandbox as the checkout does): the page's
 * today and 30-day figures move by exactly what the set-up made (read before and after: the demo data
 * has its own history), the charts draw an SVG, and another clinic's staff and a patient get 403.
 */
import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { bookReservation, cancelReservation, commandMetadata, confirmDeposit, depositPaymentId, recordNoShow, startDepositAttempt, type CommandDeps } from '../lib/commands';
import { connect, type Database } from '../lib/db/client';
import { atLocal, clinicDay, DomainError, plusMinutes, weekdayOfDay } from '../lib/domain';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';
import { expectForbidden, signIn } from './helpers';

const SINSA = 'sinsa-clear';
/** Acne care: consult-first, instant (confirmed at once). Aqua peel: pay and book, deposit 10 000. */
const ACNE = 'sinsa-clear-acne';
const PEEL = 'sinsa-clear-aqua-peel';
const SHOTS = '.data/test-results/stats';

let database: Database;
let store: EventStore;
let deps: CommandDeps;
const origin = { ip: '127.0.0.1', userAgent: 'e2e set-up' };
const asPatient = (patientId: string) => commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId: SINSA, ...origin });
const asStaff = (staffId: string) => commandMetadata({ actor: { id: staffId, role: 'staff' }, clinicId: SINSA, ...origin });

async function userId(email: string): Promise<string> {
  const [row] = await database.sql<{ id: string }[]>`select id::text as id from users where lower(email) = ${email}`;
  if (!row) throw new Error(`no account ${email}`);
  return row.id;
}
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
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
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
  if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  database = connect(url, { max: 4 });
  store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-stats' });
  deps = commandDepsFor(database.sql, store, masterKey);
});
test.afterAll(async () => {
  await store?.close();
  await database?.close();
});

/** A number as the page shows it (₩-10,000 → -10000; "—" → null). */
function figure(text: string): number | null {
  const digits = text.replace(/[^\d-]/g, '');
  return digits === '' || digits === '-' ? null : Number(digits);
}
async function summary(page: Page) {
  const read = async (measure: string) => {
    const cells = page.getByTestId('stats-summary').locator(`tr[data-measure="${measure}"] td`);
    return { today: figure(await cells.nth(0).innerText()), period: figure(await cells.nth(1).innerText()) };
  };
  return { bookings: await read('bookings'), cancellations: await read('cancellations'), revenue: await read('revenue') };
}

test("staff see today's and the 30 days' figures move by what was booked, cancelled and paid; the charts draw; others get 403", async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, 'sinsa.staff@yeyak.example');
  await expect(page).toHaveURL(/\/staff\//);
  await page.goto(`/staff/${SINSA}/stats`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('통계');
  const before = await summary(page);

  // Set-up: three bookings today (for a weekday well ahead), one of them cancelled, one deposit of 10 000 paid.
  const minji = await userId('minji@yeyak.example');
  const seojun = await userId('seojun@yeyak.example');
  const day = weekdayAhead(47);
  const tag = randomBytes(4).toString('hex');
  const kept = `rsv-stats-kept-${tag}`;
  const dropped = `rsv-stats-dropped-${tag}`;
  const paid = `rsv-stats-paid-${tag}`;
  await bookReservation(deps, { reservationId: kept, clinicId: SINSA, patientId: minji, treatmentId: ACNE, kind: 'consult-first', startsAt: atLocal(day, '15:00').toISOString() }, asPatient(minji));
  await bookReservation(deps, { reservationId: dropped, clinicId: SINSA, patientId: seojun, treatmentId: ACNE, kind: 'consult-first', startsAt: atLocal(day, '15:30').toISOString() }, asPatient(seojun));
  await cancelReservation(deps, { reservationId: dropped, by: 'patient', reason: 'plans changed' }, asPatient(seojun));
  await bookReservation(deps, { reservationId: paid, clinicId: SINSA, patientId: seojun, treatmentId: PEEL, kind: 'pay-and-book', startsAt: atLocal(day, '16:00').toISOString() }, asPatient(seojun));
  const paymentId = depositPaymentId(paid);
  await until('the deposit order', async () => (await database.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).length > 0);
  const attempt = await startDepositAttempt(deps, { paymentId, cardNumber: '4242 4242 4242 4242' }, asPatient(seojun));
  expect((await confirmDeposit(deps, attempt, asPatient(seojun))).outcome).toBe('captured');
  await until('the deposit in the daily statistics', async () => (await database.sql`select 1 from rm_payments where id = ${paymentId} and status = 'captured'`).length > 0);

  // The read model catches up: reload until the figures move (the worker is live, not instant).
  await expect
    .poll(async () => {
      await page.reload();
      return (await summary(page)).revenue.today;
    })
    .toBe((before.revenue.today ?? 0) + 10_000);
  const after = await summary(page);
  expect(after.bookings).toEqual({ today: before.bookings.today! + 3, period: before.bookings.period! + 3 });
  expect(after.cancellations).toEqual({ today: before.cancellations.today! + 1, period: before.cancellations.period! + 1 });
  expect(after.revenue.period).toBe(before.revenue.period! + 10_000);
  // The day-by-day table's row for today says the same.
  const todayRow = page.getByTestId('stats-days').locator(`tr[data-day="${clinicDay(new Date())}"] td`);
  expect(figure(await todayRow.nth(0).innerText())).toBe(after.bookings.today);
  expect(figure(await todayRow.nth(1).innerText())).toBe(after.cancellations.today);
  expect(figure(await todayRow.nth(5).innerText())).toBe(after.revenue.today);

  // The charts: titled figures with an SVG drawn by recharts, hidden from screen readers (the tables carry the numbers).
  const chart = page.getByRole('figure', { name: '날짜별 예약과 취소' });
  await expect(chart).toBeVisible();
  // The chart's own SVG (the legend's icons are SVGs too), inside the part hidden from screen readers.
  const plot = (figure: typeof chart) => figure.locator('[aria-hidden="true"] .recharts-wrapper > svg.recharts-surface');
  await expect(plot(chart)).toBeVisible();
  await expect(plot(page.getByRole('figure', { name: '날짜별 매출' }))).toBeVisible();
  await expect(chart.locator('.recharts-bar-rectangle').first()).toBeAttached();
  // The Statistics tab is current; the other staff pages link to it.
  await expect(page.getByRole('link', { name: '통계' })).toHaveAttribute('aria-current', 'page');

  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/stats-${width}.png`, fullPage: true });
    // Nothing widens the page at 375 px (the day table scrolls in its own box).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
  }
  await page.goto(`/staff/${SINSA}`);
  await page.getByRole('link', { name: '통계' }).click();
  await expect(page).toHaveURL(new RegExp(`/staff/${SINSA}/stats$`));

  // Another clinic's staff and a patient: 403.
  for (const email of ['apgujeong.staff@yeyak.example', 'minji@yeyak.example']) {
    const context = await browser.newContext();
    const other = await context.newPage();
    await signIn(other, email);
    await other.waitForURL((u) => !u.pathname.startsWith('/signin'));
    const response = await other.goto(`/staff/${SINSA}/stats`);
    expect(response?.status()).toBe(403);
    await expectForbidden(other);
    await context.close();
  }
});

test('the no-show rate counts the appointments that reached their time; top treatments count them per treatment', async ({ page }) => {
  test.setTimeout(90_000);
  const minji = await userId('minji@yeyak.example');
  const seojun = await userId('seojun@yeyak.example');
  const staffId = await userId('sinsa.staff@yeyak.example');
  await signIn(page, 'sinsa.staff@yeyak.example');
  await expect(page).toHaveURL(/\/staff\//);

  // Two consultations on one day whose start (plus the 15-minute grace) is past: booked with a command clock
  // 2 h 10 min before the start (the clinic's minimum notice is 2 h), at the latest slots that take them.
  // Early in Seoul's morning a day may have only one past slot with a free seat (Sinsa opens at 11:00 on
  // weekdays; other specs book past slots too), so when the second finds no seat that day, both move to
  // the day before (the first booking left behind on the later day is another day's row).
  const tag = randomBytes(4).toString('hex');
  const came = `rsv-stats-came-${tag}`;
  const book = async (reservationId: string, patientId: string, s: Date) => {
    try {
      await bookReservation({ ...deps, clock: () => plusMinutes(s, -130) }, { reservationId, clinicId: SINSA, patientId, treatmentId: ACNE, kind: 'consult-first', startsAt: s.toISOString() }, asPatient(patientId));
      return true;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error; // closed then, or full: try the slot before
      return false;
    }
  };
  const dayCells = (day: string) => page.getByTestId('stats-days').locator(`tr[data-day="${day}"] td`);
  const acne = page.getByTestId('stats-top').locator(`tr[data-treatment="${ACNE}"] td`);
  const earliest = Date.now() - 3 * 24 * 3_600_000;
  let from = new Date(Math.floor((Date.now() - 20 * 60_000) / 1_800_000) * 1_800_000);
  let found: { missed: string; day: string; before: { due: number; noShows: number; acne: number } } | undefined;
  for (let attempt = 0; !found; attempt++) {
    const missed = `rsv-stats-missed-${tag}-${attempt}`;
    let startsAt: Date | undefined;
    for (let s = from; s.getTime() > earliest && !startsAt; s = plusMinutes(s, -30)) if (await book(missed, minji, s)) startsAt = s;
    if (!startsAt) throw new Error('no two past slots of one Sinsa day could be booked in the last three days');
    const day = clinicDay(startsAt);
    // The page reads the read models: wait for the worker to have projected the booking first.
    await until('the first booking projected', async () => (await database.sql`select 1 from rm_reservations where id = ${missed}`).length > 0);
    await page.goto(`/staff/${SINSA}/stats`);
    // Read before the second booking and the no-show (the first one is already due: it reached its time).
    await expect.poll(async () => figure(await dayCells(day).nth(2).innerText())).toBeGreaterThanOrEqual(1);
    const before = { due: figure(await dayCells(day).nth(2).innerText())!, noShows: figure(await dayCells(day).nth(3).innerText())!, acne: figure(await acne.nth(1).innerText())! };
    // The second one on the same day, at that slot or an earlier one (the first may have taken its last seat).
    let cameBooked = false;
    for (let s = startsAt; clinicDay(s) === day && !cameBooked; s = plusMinutes(s, -30)) cameBooked = await book(came, seojun, s);
    if (cameBooked) found = { missed, day, before };
    // Else on from the last slot of the day before.
    else from = plusMinutes(atLocal(day, '00:00'), -30);
  }
  const { missed, day, before } = found;
  await recordNoShow(deps, { reservationId: missed, staffId }, asStaff(staffId));
  await until('the no-show projected', async () => (await database.sql`select 1 from rm_reservations where id = ${missed} and status = 'no-show'`).length > 0);
  await until('the second booking projected', async () => (await database.sql`select 1 from rm_reservations where id = ${came}`).length > 0);
  await page.reload();
  expect(figure(await dayCells(day).nth(2).innerText())).toBe(before.due + 1);
  expect(figure(await dayCells(day).nth(3).innerText())).toBe(before.noShows + 1);
  // The rate shown is no-shows / due of that day.
  const shown = (await dayCells(day).nth(4).innerText()).replace(/\s/g, '');
  const expected = new Intl.NumberFormat('ko-KR', { style: 'percent', maximumFractionDigits: 1 }).format((before.noShows + 1) / (before.due + 1));
  expect(shown).toBe(expected.replace(/\s/g, ''));
  expect(figure(await acne.nth(1).innerText())).toBe(before.acne + 1);
  await expect(page.getByRole('figure', { name: '인기 시술, 최근 30일' }).locator('[aria-hidden="true"] .recharts-wrapper > svg.recharts-surface')).toBeVisible();
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/stats-no-show-${width}.png`, fullPage: true });
  }
});
