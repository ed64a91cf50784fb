/**
 * Running the clinic (issue 9, item 5), in the browser against the production build with the real
 * worker. Gangnam Glow's manager is gangnam.staff (the demo's one manager); gangnam.nurse is plain staff.
 *
 * - the manager adds a treatment, changes its price, and the public clinic page shows the new price;
 *   unlisting it asks for a confirmation first, and the public page no longer lists it;
 * - opening hours with a break, slots, settings: saved, shown, refused with field errors when wrong;
 * - the manager closes a day that has a booking: it is listed right there, moved, the day opened again;
 * - plain staff see no Clinic tab, get 403 for the pages, and a manage action they post directly
 *   (the manager's own request, replayed with their session) gets 403 with nothing appended.
 * Every manage page is photographed at 1280 and 375 px (.data/screens/manage).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { bookReservation, commandMetadata, type CommandDeps } from '../lib/commands';
import { connect, type Database } from '../lib/db/client';
import { atLocal, clinicDay, plusMinutes, weekdayOfDay } from '../lib/domain';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';
import { expectForbidden, signIn } from './helpers';
import { eventCount } from './me-setup';

const GANGNAM = 'gangnam-glow';
const MANAGE = `/staff/${GANGNAM}/manage`;
const SHOTS = '.data/screens/manage';

let database: Database;
let store: EventStore;
let deps: CommandDeps;

test.beforeAll(async () => {
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
  if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  database = connect(url, { max: 2 });
  store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-manage' });
  deps = commandDepsFor(database.sql, store, masterKey);
});
test.afterAll(async () => {
  await store?.close();
  await database?.sql.end();
});

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

/** The first Monday–Friday at least `days` ahead (Seoul). */
function weekdayAhead(days: number): string {
  for (let d = days; ; d++) {
    const candidate = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    const weekday = weekdayOfDay(candidate);
    if (weekday >= 1 && weekday <= 5) return candidate;
  }
}

async function signedIn(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email);
  await page.waitForURL(/\/staff\//);
  return page;
}

/** Full-page screenshots at 1280 and 375 px (looked at by hand; not an assertion). */
async function shoot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const [width, height] of [
    [1280, 900],
    [375, 800],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The public clinic page's row of a treatment (its name in the first cell). */
const publicRow = (page: Page, name: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });

/**
 * The public clinic page, opened until `check` holds: it is served from the public cache, which the
 * worker's announcement drops just after the read models have the change (never stale for long).
 */
async function publicPageShows(page: Page, check: (page: Page) => Promise<void>) {
  await expect(async () => {
    await page.goto(`/clinics/${GANGNAM}`);
    await check(page);
  }).toPass({ timeout: 15_000 });
}

test('a manager adds a treatment and changes its price; the public clinic page shows the new price; unlisting asks first', async ({ browser }) => {
  test.setTimeout(90_000);
  const page = await signedIn(browser, 'gangnam.staff@yeyak.example');
  const name = `e2e 레이저 제모 ${Date.now().toString(36)}`;

  // The Clinic tab is there for a manager; the treatments are listed with their prices.
  await page.getByRole('navigation', { name: '직원 메뉴' }).getByRole('link', { name: '운영' }).click();
  await expect(page).toHaveURL(MANAGE);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('운영 관리');
  const botox = page.getByTestId('treatments').locator('[data-treatment="gangnam-glow-botox-forehead"]');
  await expect(botox).toContainText('₩99,000');
  await expect(botox).toContainText('상담 먼저');
  await shoot(page, 'treatments');

  // Add one: a bad deposit is refused by the decider with its message, then fixed.
  await page.getByRole('link', { name: '시술 추가' }).click();
  await expect(page).toHaveURL(`${MANAGE}/treatments/new`);
  const form = page.getByTestId('add-treatment-form');
  await form.getByLabel('시술명', { exact: true }).fill(name);
  await form.getByLabel('분류').fill('hair-removal');
  await form.getByLabel('시술 시간').fill('30');
  await form.getByLabel('상담 먼저', { exact: true }).uncheck();
  await form.getByLabel('즉시 확정').check();
  await form.getByLabel('가격 (부가세 포함)').fill('abc');
  await form.getByRole('button', { name: '시술 추가' }).click();
  await expect(form.getByTestId('form-error')).toHaveText('아래 표시된 항목을 확인해 주세요.');
  await expect(form.getByTestId('field-error')).toHaveText(['숫자만 입력하세요.', '값을 입력하세요.']);
  await shoot(page, 'treatment-new-errors');
  await form.getByLabel('가격 (부가세 포함)').fill('50,000');
  await form.getByLabel('예약금', { exact: true }).fill('60000');
  await form.getByRole('button', { name: '시술 추가' }).click();
  await expect(form.getByTestId('form-error')).toContainText('예약금');
  await form.getByLabel('예약금', { exact: true }).fill('10,000');
  await form.getByRole('button', { name: '시술 추가' }).click();
  await expect(page).toHaveURL(new RegExp(`${MANAGE}\\?added=`));
  await expect(page.getByTestId('form-ok')).toContainText(name);
  const row = page.getByTestId('treatments').getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('₩50,000');
  await expect(row).toContainText('₩10,000');

  // The public page lists it; change its price; the public page shows the new one.
  await publicPageShows(page, (p) => expect(publicRow(p, name)).toContainText('₩50,000', { timeout: 1000 }));
  await page.goto(MANAGE);
  await row.getByRole('link', { name, exact: true }).click();
  await expect(page.getByTestId('treatment-name')).toHaveText(name);
  const treatmentPage = page.url();
  const price = page.getByTestId('price-form');
  await expect(price.getByLabel('가격 (부가세 포함)')).toHaveValue('50,000');
  await price.getByLabel('가격 (부가세 포함)').fill('64,000');
  await price.getByRole('button', { name: '저장' }).click();
  await expect(price.getByTestId('form-ok')).toHaveText('가격을 바꿨습니다. 새 예약부터 적용됩니다.');
  await expect(price.getByLabel('가격 (부가세 포함)')).toHaveValue('64,000');
  // Its details: VAT exempt from now on (the header line says so once saved).
  const details = page.getByTestId('details-form');
  await details.getByLabel('면세').check();
  await details.getByRole('button', { name: '저장' }).click();
  await expect(details.getByTestId('form-ok')).toHaveText('시술 정보를 저장했습니다.');
  await expect(page.getByText('hair-removal · ₩64,000 (면세)')).toBeVisible();
  await shoot(page, 'treatment-edit');
  await publicPageShows(page, (p) => expect(publicRow(p, name)).toContainText('₩64,000', { timeout: 1000 }));

  // Unlist: a dialog first; keeping it listed changes nothing; confirming takes it off the public page.
  await page.goto(treatmentPage);
  await page.getByRole('button', { name: '목록에서 내리기' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText(name);
  await shoot(page, 'treatment-unlist-dialog');
  await dialog.getByRole('button', { name: '취소' }).click();
  await expect(dialog).toBeHidden();
  await page.getByRole('button', { name: '목록에서 내리기' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '목록에서 내리기' }).click();
  await expect(page).toHaveURL(new RegExp(`${MANAGE}\\?unlisted=`));
  await expect(page.getByTestId('form-ok')).toContainText(name);
  await expect(page.getByTestId('treatments')).not.toContainText(name);
  await publicPageShows(page, (p) => expect(p.getByRole('rowheader', { name, exact: true })).toHaveCount(0, { timeout: 1000 }));
  await page.context().close();
});

test('a manager sets opening hours with a break, the slots, the policy and the settings; each form shows what it saved', async ({ browser }) => {
  test.setTimeout(90_000);
  const page = await signedIn(browser, 'gangnam.staff@yeyak.example');
  await page.goto(`${MANAGE}/hours`);
  const hours = page.getByTestId('hours-form');
  // Sunday is closed at Gangnam Glow: open it 11:00–15:00 with a break, save, and see it on the public page.
  const sunday = hours.locator('[data-weekday="0"]');
  await expect(sunday).toContainText('휴진');
  await sunday.getByRole('button', { name: '진료하는 날로 바꾸기' }).click();
  await sunday.getByLabel('일요일 1번째 구간 시작').fill('11:00');
  await sunday.getByLabel('일요일 1번째 구간 종료').fill('15:00');
  await sunday.getByRole('button', { name: '일요일 휴게 시간 추가' }).click();
  await expect(sunday.getByLabel('일요일 1번째 구간 종료')).toHaveValue('12:30');
  await expect(sunday.getByLabel('일요일 2번째 구간 시작')).toHaveValue('13:30');
  await hours.getByRole('button', { name: '저장' }).click();
  await expect(hours.getByTestId('form-ok')).toHaveText('진료 시간을 저장했습니다.');
  await shoot(page, 'hours');
  await publicPageShows(page, (p) => expect(p.getByText('11:00–12:30, 13:30–15:00')).toBeVisible({ timeout: 1000 }));

  // Overlapping intervals are refused on the weekday, with nothing lost; then Sunday is closed again.
  await page.goto(`${MANAGE}/hours`);
  await sunday.getByLabel('일요일 2번째 구간 시작').fill('12:00');
  await hours.getByRole('button', { name: '저장' }).click();
  await expect(sunday.getByTestId('field-error')).toHaveText('진료 시간이 서로 겹칩니다.');
  await expect(sunday.getByLabel('일요일 2번째 구간 시작')).toHaveValue('12:00');
  await sunday.getByRole('button', { name: '일요일 2번째 구간 삭제' }).click();
  await sunday.getByRole('button', { name: '일요일 1번째 구간 삭제' }).click();
  await hours.getByRole('button', { name: '저장' }).click();
  await expect(hours.getByTestId('form-ok')).toHaveText('진료 시간을 저장했습니다.');
  await expect(sunday).toContainText('휴진');

  // The slot form: the same values again is "nothing changed".
  const slots = page.getByTestId('slots-form');
  await slots.getByRole('button', { name: '저장' }).click();
  await expect(slots.getByTestId('form-ok')).toHaveText('바뀐 내용이 없어 그대로 두었습니다.');
  await slots.getByLabel('슬롯당 예약 수').fill('0');
  await slots.getByRole('button', { name: '저장' }).click();
  await expect(slots.getByTestId('field-error')).toHaveText('허용 범위를 벗어났습니다.');

  await page.goto(`${MANAGE}/policy`);
  const settings = page.getByTestId('settings-form');
  const grace = settings.getByLabel('노쇼 유예 시간');
  const before = await grace.inputValue();
  await grace.fill(String(Number(before) + 5));
  await settings.getByRole('button', { name: '저장' }).click();
  await expect(settings.getByTestId('form-ok')).toHaveText('설정을 저장했습니다.');
  await expect(grace).toHaveValue(String(Number(before) + 5));
  await grace.fill(before);
  await settings.getByRole('button', { name: '저장' }).click();
  await expect(grace).toHaveValue(before);
  await expect(settings.getByRole('button', { name: '저장', exact: true })).toBeEnabled();
  await shoot(page, 'policy');
  await page.context().close();
});

test('a manager closes a day that has a booking, sees it listed there, moves it to another day, and opens the day again', async ({ browser }) => {
  test.setTimeout(90_000);
  // A booking on a weekday no other spec uses (70+ days ahead, inside Gangnam Glow's 90-day horizon).
  const day = weekdayAhead(70);
  const patientId = await userId('jiwoo@yeyak.example');
  const reservationId = `rsv-manage-${randomBytes(5).toString('hex')}`;
  await bookReservation(
    deps,
    { reservationId, clinicId: GANGNAM, patientId, treatmentId: 'gangnam-glow-botox-forehead', kind: 'consult-first', startsAt: atLocal(day, '11:00').toISOString() },
    commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId: GANGNAM, ip: '127.0.0.1', userAgent: 'e2e set-up' }),
  );
  await until(`${reservationId} projected`, async () => (await database.sql`select 1 from rm_reservations where id = ${reservationId}`).length > 0);

  const page = await signedIn(browser, 'gangnam.staff@yeyak.example');
  await page.goto(`${MANAGE}/closures`);
  const form = page.getByTestId('close-days-form');
  await form.getByLabel('날짜 (시작일)').fill(day);
  await form.getByLabel('사유').fill('원장 학회 참석');
  await form.getByRole('button', { name: '휴진일로 지정' }).click();
  await expect(form.getByTestId('form-ok')).toHaveText('휴진일로 지정했습니다.');

  // The closed day lists the booking still on it, with the patient and the treatment.
  const closed = page.locator(`[data-closed-day="${day}"]`);
  await expect(closed).toContainText('원장 학회 참석');
  await expect(closed).toContainText('옮기거나 취소해야 할 예약 1건');
  const booking = closed.locator(`[data-reservation="${reservationId}"]`);
  await expect(booking).toContainText('11:00');
  await expect(booking).toContainText('보톡스 (이마)');
  await expect(page.getByTestId('closures-attention')).toBeVisible();
  await shoot(page, 'closures');

  // No slot is offered on it to patients.
  const publicPage = await (await browser.newContext()).newPage();
  await publicPage.goto(`/clinics/${GANGNAM}?day=${day}`);
  await expect(publicPage.getByTestId('slots')).toBeVisible();
  await expect(publicPage.getByTestId('slots').getByRole('link')).toHaveCount(0);
  await publicPage.context().close();

  // Move it: the suggested day is the next open one; the booking leaves the closed day's list.
  await booking.getByText('옮기기', { exact: true }).click();
  const move = booking.getByTestId('move-form');
  const movedTo = await move.getByLabel('새 날짜').inputValue();
  expect(movedTo > day).toBe(true);
  await move.getByRole('button', { name: '이 시간으로 옮기기' }).click();
  await expect(closed).toContainText('이날 남은 예약이 없습니다.');
  await until(`${reservationId} moved`, async () => (await database.sql`select 1 from rm_reservations where id = ${reservationId} and day = ${movedTo}`).length > 0);

  // Open the day again.
  await closed.getByRole('button', { name: '휴진 해제' }).click();
  await expect(page.locator(`[data-closed-day="${day}"]`)).toHaveCount(0);
  await page.context().close();
});

test('plain staff see no Clinic tab, get 403 for the pages, and a manage action posted directly gets 403 with nothing appended', async ({ browser }) => {
  test.setTimeout(90_000);
  const manager = await signedIn(browser, 'gangnam.staff@yeyak.example');
  const nurse = await signedIn(browser, 'gangnam.nurse@yeyak.example');

  await expect(nurse.getByRole('navigation', { name: '직원 메뉴' }).getByRole('link')).toHaveText(['오늘', '진료 보드', '수납', '통계']);
  for (const path of [MANAGE, `${MANAGE}/hours`, `${MANAGE}/policy`, `${MANAGE}/treatments/new`, `${MANAGE}/treatments/gangnam-glow-botox-forehead`]) {
    const response = await nurse.goto(path);
    expect(response?.status(), path).toBe(403);
    await expectForbidden(nurse);
  }

  // The manager's own price-change request, captured on its way out (and not sent) …
  await manager.goto(`${MANAGE}/treatments/gangnam-glow-laser-toning`);
  const price = manager.getByTestId('price-form');
  await price.getByLabel('가격 (부가세 포함)').fill('1,000');
  let captured: { url: string; headers: Record<string, string>; body: Buffer } | undefined;
  await manager.route('**/*', async (route) => {
    const request = route.request();
    if (request.method() === 'POST' && request.headers()['next-action']) {
      captured = { url: request.url(), headers: request.headers(), body: request.postDataBuffer() ?? Buffer.alloc(0) };
      return route.abort();
    }
    return route.continue();
  });
  await price.getByRole('button', { name: '저장' }).click();
  await expect.poll(() => captured !== undefined).toBe(true);

  // … posted with the nurse's session: 403, nothing appended, the price as it was.
  const before = await eventCount(database.sql);
  const { cookie: _cookie, 'content-length': _length, ...headers } = captured!.headers;
  const response = await nurse.request.post(captured!.url, { headers, data: captured!.body });
  expect(response.status()).toBe(403);
  expect(await eventCount(database.sql)).toBe(before);
  await nurse.goto(`/clinics/${GANGNAM}`);
  await expect(publicRow(nurse, '레이저 토닝')).toContainText('₩59,000');
  await manager.context().close();
  await nurse.context().close();
});
