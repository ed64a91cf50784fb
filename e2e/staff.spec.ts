/**
 * Staff run their day (issue 9, items 1–2), in the browser against the production build, with the
 * real worker and process managers. Bookings are made in the set-up through the real command layer as
 * the patient (and clinic-side steps as that clinic's own staff member); nothing is written to a table.
 *
 * - a patient's request appears on the clinic's Today for its day; staff confirm it in one click; a
 *   rejection needs a reason;
 * - staff check the patient in and move the visit through every stage while a second browser context
 *   (another staff member of the clinic) has the board open and sees each move arrive without reloading
 *   (server-sent events); a revert asks for a reason; a treatment added mid-visit appears on the card
 *   and on the bill (the discharged card's bill, live, and the desk's ledger);
 * - time in the current stage is highlighted once past the threshold the clinic's manager set for that
 *   stage, on an open board (the browser's clock is moved on; no reload, no request);
 * - staff of another clinic get 403 for every staff action posted directly (their own forms with the
 *   other clinic's ids put in) with nothing appended, and 403 for the board's event stream.
 */
import { randomBytes } from 'node:crypto';
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import {
  bookReservation,
  changeClinicSettings,
  commandMetadata,
  confirmReservation,
  derivedId,
  loadClinic,
  recordArrival,
  startConsultation,
  type CommandDeps,
} from '../lib/commands';
import { connect, type Database } from '../lib/db/client';
import { atLocal, clinicDay, plusMinutes, weekdayOfDay } from '../lib/domain';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';
import { expectForbidden, signIn } from './helpers';
import { eventCount } from './me-setup';

const GANGNAM = 'gangnam-glow';
const APGUJEONG = 'apgujeong-line';
const SHOTS = '.data/test-results/staff';

let database: Database;
let store: EventStore;
let deps: CommandDeps;
/** A weekday far enough ahead that no other spec books it. */
let day: string;
const ids = {} as Record<'patient' | 'seojun' | 'jiwoo' | 'gangnamStaff' | 'apgujeongStaff', string>;

async function userId(email: string): Promise<string> {
  const [row] = await database.sql<{ id: string }[]>`select id::text as id from users where lower(email) = ${email}`;
  if (!row) throw new Error(`no account ${email}`);
  return row.id;
}

const asPatient = (patientId: string, clinicId: string) => commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId, ip: '127.0.0.1', userAgent: 'e2e set-up' });
const asStaff = (staffId: string, clinicId: string) => commandMetadata({ actor: { id: staffId, role: 'staff' }, clinicId, ip: '127.0.0.1', userAgent: 'e2e set-up' });

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function projectedReservation(id: string, status: string) {
  await until(`${id} ${status}`, async () => (await database.sql`select 1 from rm_reservations where id = ${id} and status = ${status}`).length > 0);
}

async function projectedVisit(id: string, stage: string) {
  await until(`${id} ${stage}`, async () => (await database.sql`select 1 from rm_visits where id = ${id} and stage = ${stage}`).length > 0);
}

async function book(patientId: string, clinicId: string, treatmentId: string, time: string): Promise<string> {
  const reservationId = `rsv-staff-${randomBytes(5).toString('hex')}`;
  await bookReservation(deps, { reservationId, clinicId, patientId, treatmentId, kind: 'consult-first', startsAt: atLocal(day, time).toISOString() }, asPatient(patientId, clinicId));
  return reservationId;
}

test.beforeAll(async () => {
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
  if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  database = connect(url, { max: 4 });
  store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-staff' });
  deps = commandDepsFor(database.sql, store, masterKey);
  // The first Monday–Friday at least 40 days ahead (Seoul).
  for (let d = 40; ; d++) {
    const candidate = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    const weekday = weekdayOfDay(candidate);
    if (weekday >= 1 && weekday <= 5) {
      day = candidate;
      break;
    }
  }
  ids.patient = await userId('minji@yeyak.example');
  ids.seojun = await userId('seojun@yeyak.example');
  ids.jiwoo = await userId('jiwoo@yeyak.example');
  ids.gangnamStaff = await userId('gangnam.staff@yeyak.example');
  ids.apgujeongStaff = await userId('apgujeong.staff@yeyak.example');
});

test.afterAll(async () => {
  await store?.close();
  await database?.close();
});

const row = (page: Page, table: 'requests' | 'arrivals', reservationId: string) => page.getByTestId(table).locator(`tr[data-reservation="${reservationId}"]`);
const card = (page: Page, visitId: string) => page.locator(`[data-testid="visit-card"][data-visit="${visitId}"]`);
const inColumn = (page: Page, stage: string, visitId: string) => page.getByTestId(`column-${stage}`).locator(`[data-visit="${visitId}"]`);

async function screenshots(page: Page, name: string) {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signedIn(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email);
  await page.waitForURL(/\/staff\//);
  return page;
}

test("a patient's request appears on the clinic's Today for its day; staff confirm it in one click, and a rejection needs a reason", async ({ browser }) => {
  const requested = await book(ids.patient, GANGNAM, 'gangnam-glow-nose-filler', '10:30');
  const refused = await book(ids.seojun, GANGNAM, 'gangnam-glow-nose-filler', '11:30');
  await projectedReservation(requested, 'requested');
  await projectedReservation(refused, 'requested');

  const page = await signedIn(browser, 'gangnam.staff@yeyak.example');
  await page.goto(`/staff/${GANGNAM}?day=${day}`);
  await expect(page.getByRole('heading', { name: '강남 글로우 피부과 대시보드' })).toBeVisible();
  await expect(row(page, 'requests', requested)).toContainText('김민지 Kim Minji');
  await expect(row(page, 'requests', requested)).toContainText('코 필러');
  // The day's slots count the two requests' seats (capacity 3).
  await expect(page.getByTestId('slots').locator('tr[data-slot="10:30"]')).toContainText('2 / 3');
  await screenshots(page, 'today');

  await row(page, 'requests', requested).getByRole('button', { name: '확정', exact: true }).click();
  await expect(row(page, 'requests', requested)).toHaveCount(0);
  await expect(row(page, 'arrivals', requested)).toContainText('확정');
  await expect(row(page, 'arrivals', requested)).toHaveAttribute('data-status', 'confirmed');

  // Reject without a reason: refused with a message, nothing changes.
  const before = await eventCount(database.sql);
  await row(page, 'requests', refused).getByRole('button', { name: '거절', exact: true }).click();
  await expect(row(page, 'requests', refused).getByTestId('error-reason')).toHaveText('사유를 입력해 주세요.');
  expect(await eventCount(database.sql)).toBe(before);
  await row(page, 'requests', refused).getByLabel('거절 사유').fill('해당 시간 시술 불가');
  await row(page, 'requests', refused).getByRole('button', { name: '거절', exact: true }).click();
  await expect(row(page, 'requests', refused)).toHaveCount(0);
  const [r] = await database.sql<{ status: string; closed_reason: string | null }[]>`select status, closed_reason from rm_reservations where id = ${refused}`;
  expect(r!.status).toBe('rejected');
  // Another day opens by URL; a bad day falls back to today.
  await page.goto(`/staff/${GANGNAM}?day=not-a-day`);
  await expect(page.getByTestId('staff-day')).toContainText('오늘');
  await page.context().close();

  // The patients' own pages show the clinic's decisions.
  for (const [email, id, status] of [
    ['minji@yeyak.example', requested, '예약 확정'],
    ['seojun@yeyak.example', refused, '병원에서 거절'],
  ] as const) {
    const context = await browser.newContext();
    const patient = await context.newPage();
    await signIn(patient, email);
    await patient.waitForURL((url) => !url.pathname.startsWith('/signin'));
    await patient.goto(`/me/reservations/${id}`);
    await expect(patient.getByTestId('reservation-status')).toHaveText(status);
    await context.close();
  }
});

test('staff check the patient in and move the visit through every stage; a second staff member’s open board follows each move without reloading', async ({ browser }) => {
  test.setTimeout(180_000);
  const reservationId = await book(ids.patient, GANGNAM, 'gangnam-glow-nose-filler', '14:00');
  await projectedReservation(reservationId, 'requested');
  await confirmReservation(deps, { reservationId, staffId: ids.gangnamStaff }, asStaff(ids.gangnamStaff, GANGNAM));
  await projectedReservation(reservationId, 'confirmed');
  const visitId = derivedId('visit', reservationId);

  // The nurse's board is open first, and stays open: a marker on the window shows it never reloads.
  const nurse = await signedIn(browser, 'gangnam.nurse@yeyak.example');
  await nurse.goto(`/staff/${GANGNAM}/board`);
  await expect(nurse.getByTestId('board-live')).toHaveAttribute('data-status', 'live');
  await nurse.evaluate(() => ((window as unknown as { staffMarker: string }).staffMarker = 'same page'));

  const desk = await signedIn(browser, 'gangnam.staff@yeyak.example');
  await desk.goto(`/staff/${GANGNAM}?day=${day}`);
  const arrivals: Record<string, number> = {};
  const timed = async (label: string, act: () => Promise<void>, seen: Locator) => {
    const started = Date.now();
    await act();
    await expect(seen).toBeVisible({ timeout: 10_000 });
    arrivals[label] = Date.now() - started;
  };

  await timed('check-in', () => row(desk, 'arrivals', reservationId).getByRole('button', { name: '접수', exact: true }).click(), inColumn(nurse, 'arrived', visitId));
  await expect(row(desk, 'arrivals', reservationId)).toHaveAttribute('data-status', 'checked-in');
  await expect(card(nurse, visitId).getByTestId('card-patient')).toHaveText('김민지 Kim Minji');
  await expect(card(nurse, visitId).getByTestId('moved-by')).toContainText('최수아 Choi Sua');

  await desk.goto(`/staff/${GANGNAM}/board`);
  await expect(desk.getByTestId('board-live')).toHaveAttribute('data-status', 'live');
  const mine = () => card(desk, visitId);
  await timed('consultation', () => mine().getByRole('button', { name: '상담 시작' }).click(), inColumn(nurse, 'consultation', visitId));

  // A treatment added mid-visit appears on both boards' card.
  await mine().getByLabel('추가할 시술').selectOption('gangnam-glow-botox-forehead');
  await timed('treatment', () => mine().getByRole('button', { name: '시술 추가' }).click(), card(nurse, visitId).getByTestId('card-treatments').getByText('보톡스 (이마)'));
  await expect(card(nurse, visitId).getByTestId('card-treatments')).toContainText('₩99,000');

  await timed('procedure', () => mine().getByRole('button', { name: '시술 시작' }).click(), inColumn(nurse, 'procedure', visitId));
  await screenshots(desk, 'board');

  // A revert asks for a reason first.
  await mine().getByText('이전 단계로 되돌리기').click();
  const before = await eventCount(database.sql);
  await mine().getByRole('button', { name: '되돌리기', exact: true }).click();
  await expect(mine().getByTestId('error-reason')).toHaveText('사유를 입력해 주세요.');
  expect(await eventCount(database.sql)).toBe(before);
  await mine().getByLabel('되돌리는 사유').fill('상담 추가 필요');
  await timed('revert', () => mine().getByRole('button', { name: '되돌리기', exact: true }).click(), inColumn(nurse, 'consultation', visitId));
  await expect(card(nurse, visitId).getByTestId('revert-note')).toContainText('상담 추가 필요');

  await timed('procedure again', () => mine().getByRole('button', { name: '시술 시작' }).click(), inColumn(nurse, 'procedure', visitId));
  await timed('recovery', () => mine().getByRole('button', { name: '회복 시작' }).click(), inColumn(nurse, 'recovery', visitId));
  await timed('discharge', () => mine().getByRole('button', { name: '퇴원', exact: true }).click(), inColumn(nurse, 'discharged', visitId));
  await expect(card(nurse, visitId).getByTestId('card-treatments')).toContainText('보톡스 (이마)');

  // The treatment added mid-visit is on the bill: the discharged card's bill (a consultation booking
  // has no deposit to credit) arrives on the nurse's open board once the process managers ask it, and
  // the desk's ledger lists the bill with that treatment.
  const bill = card(nurse, visitId).getByTestId('card-bill');
  await expect(bill.getByTestId('bill-total')).toHaveText('₩99,000');
  await expect(bill.getByTestId('bill-deposit')).toHaveText('₩0');
  await expect(bill.getByTestId('bill-balance')).toHaveText('₩99,000');
  await expect(bill.getByTestId('bill-status')).toHaveText('수납 대기', { timeout: 10_000 });
  await expect(bill).toHaveAttribute('data-status', 'due');
  await desk.goto(`/staff/${GANGNAM}/payments`);
  const ledgerBill = desk.getByTestId('ledger').locator(`tr[data-payment="${derivedId('bill', visitId)}"]`);
  await expect(ledgerBill).toContainText('보톡스 (이마)');
  await expect(ledgerBill).toContainText('99,000');
  await expect(ledgerBill.getByTestId('payment-status')).toHaveText('수납 대기');

  // Every move arrived on the nurse's board in the same page load.
  expect(await nurse.evaluate(() => (window as unknown as { staffMarker?: string }).staffMarker)).toBe('same page');
  await projectedVisit(visitId, 'discharged');
  console.log(`board: action click → visible on the other board (ms): ${JSON.stringify(arrivals)}`);
  await nurse.getByTestId('column-discharged').scrollIntoViewIfNeeded();
  await screenshots(nurse, 'board-discharged');
  await Promise.all([nurse.context().close(), desk.context().close()]);
});

test('time in the current stage is highlighted once past the threshold the clinic set for that stage, without a reload', async ({ browser }) => {
  // Gangnam's manager sets 5 minutes for "arrived" (the default is 15); put back afterwards.
  const manager = commandMetadata({ actor: { id: ids.gangnamStaff, role: 'staff' }, clinicId: GANGNAM, clinicManager: true, ip: '127.0.0.1', userAgent: 'e2e set-up' });
  const previous = (await loadClinic(deps, GANGNAM)).settings.stageThresholdMinutes;
  await changeClinicSettings(deps, { clinicId: GANGNAM, stageThresholdMinutes: { arrived: 5 } }, manager);
  try {
    const visitId = `visit-walkin-${randomBytes(4).toString('hex')}`;
    await recordArrival(deps, { visitId, clinicId: GANGNAM, patientId: ids.seojun, staffId: ids.gangnamStaff }, asStaff(ids.gangnamStaff, GANGNAM));
    await projectedVisit(visitId, 'arrived');
    await until('the catalogue has the threshold', async () => (await database.sql`select 1 from clinics where id = ${GANGNAM} and (settings->'stageThresholdMinutes'->>'arrived')::int = 5`).length > 0);
    const nurse = await signedIn(browser, 'gangnam.nurse@yeyak.example');
    // The page's clock, so the test can move it on (the elapsed time and the highlight are the browser's own timers).
    await nurse.clock.install();
    await nurse.goto(`/staff/${GANGNAM}/board`);
    await expect(nurse.getByTestId('board-live')).toHaveAttribute('data-status', 'live');
    await nurse.evaluate(() => ((window as unknown as { staffMarker: string }).staffMarker = 'same page'));
    const time = card(nurse, visitId).getByTestId('stage-time');
    await expect(time).toHaveAttribute('data-overdue', 'false');
    await expect(time).toContainText('기준 5분');
    await expect(card(nurse, visitId).getByTestId('overdue')).toHaveCount(0);

    await nurse.clock.fastForward('04:00');
    await expect(card(nurse, visitId).getByTestId('elapsed')).toHaveText('4분');
    await expect(time).toHaveAttribute('data-overdue', 'false');
    await nurse.clock.fastForward('01:30');
    await expect(time).toHaveAttribute('data-overdue', 'true');
    await expect(card(nurse, visitId).getByTestId('overdue')).toHaveText('기준 5분 초과');
    expect(await nurse.evaluate(() => (window as unknown as { staffMarker?: string }).staffMarker)).toBe('same page');
    await screenshots(nurse, 'board-overdue');
    await nurse.context().close();
  } finally {
    await changeClinicSettings(deps, { clinicId: GANGNAM, stageThresholdMinutes: previous }, manager);
  }
});

test('the board reconnects by itself after a dropped connection and catches up on what it missed', async ({ browser }) => {
  // A walk-in at the clinic, then the nurse's event stream is cut while the visit moves on.
  const visitId = `visit-walkin-${randomBytes(4).toString('hex')}`;
  await recordArrival(deps, { visitId, clinicId: GANGNAM, patientId: ids.jiwoo, staffId: ids.gangnamStaff }, asStaff(ids.gangnamStaff, GANGNAM));
  await projectedVisit(visitId, 'arrived');
  const nurse = await signedIn(browser, 'gangnam.nurse@yeyak.example');
  await nurse.goto(`/staff/${GANGNAM}/board`);
  await expect(inColumn(nurse, 'arrived', visitId)).toBeVisible();
  await expect(nurse.getByTestId('board-live')).toHaveAttribute('data-status', 'live');
  await nurse.evaluate(() => ((window as unknown as { staffMarker: string }).staffMarker = 'same page'));

  await nurse.context().setOffline(true);
  await expect(nurse.getByTestId('board-live')).not.toHaveAttribute('data-status', 'live');
  await startConsultation(deps, { visitId, staffId: ids.gangnamStaff }, asStaff(ids.gangnamStaff, GANGNAM));
  await projectedVisit(visitId, 'consultation');
  await nurse.waitForTimeout(1500);
  await expect(inColumn(nurse, 'arrived', visitId)).toBeVisible(); // offline: not seen yet
  await nurse.context().setOffline(false);
  await expect(inColumn(nurse, 'consultation', visitId)).toBeVisible({ timeout: 15_000 });
  await expect(nurse.getByTestId('board-live')).toHaveAttribute('data-status', 'live');
  expect(await nurse.evaluate(() => (window as unknown as { staffMarker?: string }).staffMarker)).toBe('same page');

  // What the browser sends when it reconnects: a stale Last-Event-ID is answered with `changed` at once,
  // the current one with `ready` (nothing missed).
  const firstEvent = (lastEventId: string) =>
    nurse.evaluate(
      async ({ url, lastEventId }) => {
        const controller = new AbortController();
        const response = await fetch(url, { headers: { 'Last-Event-ID': lastEventId }, signal: controller.signal });
        const reader = response.body!.getReader();
        let text = '';
        while (!/event: \w+/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
        controller.abort();
        return { event: /event: (\w+)/.exec(text)![1], id: /id: (\S+)/.exec(text)![1] };
      },
      { url: `/api/staff/${GANGNAM}/board/events`, lastEventId },
    );
  const stale = await firstEvent('a-version-from-before');
  expect(stale.event).toBe('changed');
  expect((await firstEvent(stale.id!)).event).toBe('ready');
  await nurse.context().close();
});

test('staff of another clinic get 403 for every staff action posted directly (nothing appended) and for the board’s event stream', async ({ browser }) => {
  test.setTimeout(120_000);
  // Gangnam's targets: a request, a confirmed booking, an open visit.
  const request = await book(ids.seojun, GANGNAM, 'gangnam-glow-nose-filler', '15:00');
  const confirmed = await book(ids.jiwoo, GANGNAM, 'gangnam-glow-nose-filler', '15:30');
  await projectedReservation(confirmed, 'requested');
  await confirmReservation(deps, { reservationId: confirmed, staffId: ids.gangnamStaff }, asStaff(ids.gangnamStaff, GANGNAM));
  const visit = `visit-target-${randomBytes(4).toString('hex')}`;
  await recordArrival(deps, { visitId: visit, clinicId: GANGNAM, patientId: ids.seojun, staffId: ids.gangnamStaff }, asStaff(ids.gangnamStaff, GANGNAM));
  await startConsultation(deps, { visitId: visit, staffId: ids.gangnamStaff }, asStaff(ids.gangnamStaff, GANGNAM));
  // Apgujeong's own rows, so its staff member has real forms to tamper with.
  const ownRequest = await book(ids.jiwoo, APGUJEONG, 'apgujeong-line-eyelid-nonincision', '09:30');
  const ownConfirmed = await book(ids.seojun, APGUJEONG, 'apgujeong-line-eyelid-nonincision', '11:30');
  await projectedReservation(ownConfirmed, 'requested');
  await confirmReservation(deps, { reservationId: ownConfirmed, staffId: ids.apgujeongStaff }, asStaff(ids.apgujeongStaff, APGUJEONG));
  const ownVisit = `visit-own-${randomBytes(4).toString('hex')}`;
  await recordArrival(deps, { visitId: ownVisit, clinicId: APGUJEONG, patientId: ids.jiwoo, staffId: ids.apgujeongStaff }, asStaff(ids.apgujeongStaff, APGUJEONG));
  await startConsultation(deps, { visitId: ownVisit, staffId: ids.apgujeongStaff }, asStaff(ids.apgujeongStaff, APGUJEONG));
  await projectedReservation(request, 'requested');
  await projectedReservation(confirmed, 'confirmed');
  await projectedReservation(ownRequest, 'requested');
  await projectedReservation(ownConfirmed, 'confirmed');
  await projectedVisit(visit, 'consultation');
  await projectedVisit(ownVisit, 'consultation');

  const page = await signedIn(browser, 'apgujeong.staff@yeyak.example');
  // Gangnam's pages are 403 from the server.
  for (const path of [`/staff/${GANGNAM}`, `/staff/${GANGNAM}?day=${day}`, `/staff/${GANGNAM}/board`]) {
    const response = await page.goto(path);
    expect(response?.status()).toBe(403);
    await expectForbidden(page);
  }

  const set = async (form: Locator, name: string, value: string) => {
    await form.locator(`input[name="${name}"]`).evaluate((el, v) => void ((el as HTMLInputElement).value = v), value);
  };
  const attempts: Array<{ name: string; path: string; form: (p: Page) => Locator; tamper: (f: Locator) => Promise<void>; button: string }> = [
    { name: 'confirm', path: `/staff/${APGUJEONG}?day=${day}`, form: (p) => row(p, 'requests', ownRequest).getByTestId('confirm-form'), tamper: (f) => set(f, 'reservationId', request), button: '확정' },
    {
      name: 'reject',
      path: `/staff/${APGUJEONG}?day=${day}`,
      form: (p) => row(p, 'requests', ownRequest).getByTestId('reject-form'),
      tamper: async (f) => {
        await set(f, 'reservationId', request);
        await f.getByLabel('거절 사유').fill('tampered');
      },
      button: '거절',
    },
    { name: 'check-in', path: `/staff/${APGUJEONG}?day=${day}`, form: (p) => row(p, 'arrivals', ownConfirmed).getByTestId('check-in-form'), tamper: (f) => set(f, 'reservationId', confirmed), button: '접수' },
    {
      name: 'walk-in',
      path: `/staff/${APGUJEONG}`,
      form: (p) => p.getByTestId('walk-in-form'),
      tamper: async (f) => {
        await set(f, 'clinicId', GANGNAM);
        await f.getByLabel('환자 이메일').fill('minji@yeyak.example');
      },
      button: '방문 시작',
    },
    { name: 'move', path: `/staff/${APGUJEONG}/board`, form: (p) => card(p, ownVisit).getByTestId('move-procedure'), tamper: (f) => set(f, 'visitId', visit), button: '시술 시작' },
    {
      name: 'revert',
      path: `/staff/${APGUJEONG}/board`,
      form: (p) => card(p, ownVisit).getByTestId('revert-form'),
      tamper: async (f) => {
        await f.page().locator(`[data-visit="${ownVisit}"]`).getByText('이전 단계로 되돌리기').click();
        await set(f, 'visitId', visit);
        await f.getByLabel('되돌리는 사유').fill('tampered');
      },
      button: '되돌리기',
    },
    { name: 'add treatment', path: `/staff/${APGUJEONG}/board`, form: (p) => card(p, ownVisit).getByTestId('add-treatment-form'), tamper: (f) => set(f, 'visitId', visit), button: '시술 추가' },
    // "Show contact" on their own patient's page (the patient has a booking at both clinics), posted for Gangnam.
    {
      name: 'show contact',
      path: `/staff/${APGUJEONG}/patients/${ids.seojun}`,
      form: (p) => p.locator('form:has(input[name="patientId"])'),
      tamper: (f) => set(f, 'clinicId', GANGNAM),
      button: '연락처 보기',
    },
  ];
  const contactReads = async () => (await database.sql`select 1 from access_log where resource = 'patient-contact' and ${ids.seojun} = any(patient_ids)`).length;
  const contactReadsBefore = await contactReads();
  for (const attempt of attempts) {
    await page.goto(attempt.path);
    const form = attempt.form(page);
    await attempt.tamper(form);
    const before = await eventCount(database.sql);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST');
    await form.getByRole('button', { name: attempt.button, exact: true }).click();
    expect((await posted).status(), attempt.name).toBe(403);
    await expectForbidden(page);
    expect(await eventCount(database.sql), attempt.name).toBe(before);
  }
  expect(await contactReads(), 'show contact: nothing read, nothing logged').toBe(contactReadsBefore);
  // Gangnam's rows are as they were.
  const statuses = await database.sql<{ id: string; status: string }[]>`select id, status from rm_reservations where id in (${request}, ${confirmed}) order by id`;
  expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({ [request]: 'requested', [confirmed]: 'confirmed' });
  const [v] = await database.sql<{ stage: string; n: number }[]>`select stage, jsonb_array_length(treatments)::int as n from rm_visits where id = ${visit}`;
  expect(v).toEqual({ stage: 'consultation', n: 0 });

  // The event stream: another clinic's staff 403, their own clinic's opens; signed out 401; a patient 403.
  const events = (clinicId: string) => `/api/staff/${clinicId}/board/events`;
  expect((await page.request.get(events(GANGNAM))).status()).toBe(403);
  const own = await page.evaluate(async (url) => {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    controller.abort();
    return { status: response.status, type: response.headers.get('content-type'), first: new TextDecoder().decode(value) };
  }, events(APGUJEONG));
  expect(own.status).toBe(200);
  expect(own.type).toContain('text/event-stream');
  expect(own.first).toContain('retry: 1000');
  const anonymous = await browser.newContext();
  expect((await anonymous.request.get(`http://127.0.0.1:${process.env.E2E_PORT ?? 3100}${events(GANGNAM)}`)).status()).toBe(401);
  await anonymous.close();
  const patient = await browser.newContext();
  const patientPage = await patient.newPage();
  await signIn(patientPage, 'minji@yeyak.example');
  await patientPage.waitForURL((url) => !url.pathname.startsWith('/signin'));
  expect((await patientPage.request.get(events(GANGNAM))).status()).toBe(403);
  await patient.close();
  await page.context().close();
});
