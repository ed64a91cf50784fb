/**
 * The access log and who may read the audit area (issue 10, items 4 and 8), in the browser against
 * the production build. Set-up through the real command layer: 서준 books at Hongdae Bloom, 민지 at
 * Gangnam Glow. Hongdae's staff reveal 서준's contact: the auditor finds that read in /audit/access.
 * Gangnam's manager (gangnam.staff, demo) sees only Gangnam's trail and access log, whatever the URL
 * asks for, and is refused the monthly review and another clinic's entity. A patient and plain staff
 * get 403 on every audit page. The auditor records a monthly review; it appears in the trail.
 */
import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { bookReservation, commandMetadata, type CommandDeps } from '../lib/commands';
import { connect, type Database } from '../lib/db/client';
import { atLocal, clinicDay, plusMinutes, weekdayOfDay } from '../lib/domain';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';
import { expectForbidden, signIn } from './helpers';

const HONGDAE = 'hongdae-bloom';
const GANGNAM = 'gangnam-glow';
// Outside .data/test-results, which every test run empties first.
const SHOTS = '.data/screenshots/audit-access';
const SEOJUN = 'seojun@yeyak.example';
const MINJI = 'minji@yeyak.example';

let database: Database;
let store: EventStore;
let deps: CommandDeps;
const ids = { seojun: '', minji: '', hongdaeStaff: '', hongdaeReservation: '', gangnamReservation: '' };

function weekdayAhead(ahead: number): string {
  for (let d = ahead; ; d++) {
    const day = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    const weekday = weekdayOfDay(day);
    if (weekday >= 1 && weekday <= 5) return day;
  }
}
async function userId(email: string): Promise<string> {
  const [row] = await database.sql<{ id: string }[]>`select id::text as id from users where lower(email) = ${email}`;
  if (!row) throw new Error(`no account ${email}`);
  return row.id;
}
async function book(patientId: string, clinicId: string, treatmentId: string, at: string): Promise<string> {
  const reservationId = `rsv-aa-${randomBytes(5).toString('hex')}`;
  const startsAt = atLocal(weekdayAhead(25 + Math.floor(Math.random() * 30)), at).toISOString();
  await bookReservation(
    deps,
    { reservationId, clinicId, patientId, treatmentId, kind: 'consult-first', startsAt },
    commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId, ip: '127.0.0.1', userAgent: 'e2e set-up' }),
  );
  const end = Date.now() + 20_000;
  while ((await database.sql`select 1 from rm_reservations where id = ${reservationId}`).length === 0) {
    if (Date.now() > end) throw new Error('the reservation never reached the read model');
    await new Promise((r) => setTimeout(r, 200));
  }
  return reservationId;
}
async function shoot(page: Page, name: string) {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 800 : 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
    // Wide tables scroll in their own box: the page itself never scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}
const logRows = (page: Page) => page.getByTestId('access-log').locator('tbody tr');

test.beforeAll(async () => {
  test.setTimeout(60_000);
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
  if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  database = connect(url, { max: 2 });
  store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-audit-access' });
  deps = commandDepsFor(database.sql, store, masterKey);
  ids.seojun = await userId(SEOJUN);
  ids.minji = await userId(MINJI);
  ids.hongdaeStaff = await userId('hongdae.staff@yeyak.example');
  ids.hongdaeReservation = await book(ids.seojun, HONGDAE, 'hongdae-bloom-wart-cryo', '16:00');
  ids.gangnamReservation = await book(ids.minji, GANGNAM, 'gangnam-glow-eczema-care', '16:00');
});
test.afterAll(async () => {
  await store?.close();
  await database?.close();
});

test("a staff member's 'show contact' is in the access log, where the auditor finds it", async ({ page }) => {
  await signIn(page, 'hongdae.staff@yeyak.example');
  await page.waitForURL(`**/staff/${HONGDAE}`);
  await page.goto(`/staff/${HONGDAE}/patients/${ids.seojun}`);
  await page.getByRole('button', { name: '연락처 보기' }).click();
  await expect(page.getByTestId('patient-contact')).toBeVisible();
  await page.context().clearCookies();

  await signIn(page, 'auditor@yeyak.example');
  await page.waitForURL('**/audit');
  await page.goto('/audit/access');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('개인정보 접속기록');
  await page.getByLabel('환자 ID').fill(ids.seojun);
  await page.getByLabel('행위').selectOption('view');
  await page.getByRole('button', { name: '필터 적용' }).click();
  await page.waitForURL(/patient=/);
  const contact = logRows(page).and(page.locator('[data-resource="patient-contact"]')).first();
  await expect(contact).toContainText('hongdae.staff@yeyak.example');
  await expect(contact).toContainText('환자 연락처');
  await expect(contact).toHaveAttribute('data-clinic', HONGDAE);
  // The auditor's own reading of the log is recorded too (it named 서준, who was on the page).
  const own = await database.sql`select 1 from access_log where resource = 'access-log' and ${ids.seojun} = any(patient_ids) and role = 'auditor'`;
  expect(own.length).toBeGreaterThan(0);
  await shoot(page, 'access-log-auditor');
});

test("a clinic manager sees only their clinic's access log and trail, whatever the URL asks", async ({ page }) => {
  // The manager reads 민지's page at Gangnam (their own clinic): an entry of their clinic.
  await signIn(page, 'gangnam.staff@yeyak.example');
  await page.waitForURL(`**/staff/${GANGNAM}`);
  await page.goto(`/staff/${GANGNAM}/patients/${ids.minji}`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('김민지');

  await page.goto(`/audit/access?clinic=${HONGDAE}`);
  await expect(page.getByTestId('manager-scope')).toContainText(GANGNAM);
  await expect(page.getByLabel('병원 ID')).toHaveCount(0);
  await expect(logRows(page).first()).toBeVisible();
  const clinics = await logRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-clinic')));
  expect(clinics.length).toBeGreaterThan(0);
  expect(new Set(clinics)).toEqual(new Set([GANGNAM]));
  // Hongdae's contact reveal of 서준 exists, but not for this manager.
  await page.goto(`/audit/access?patient=${ids.seojun}`);
  await expect(page.getByTestId('access-log-empty')).toBeVisible();
  await shoot(page, 'access-log-manager');

  // The trail: Gangnam's rows only (its 4th column is the clinic); asking for Hongdae's shows nothing.
  await page.goto('/audit');
  const trailClinics = await page.locator('table tbody tr > :nth-child(4)').allTextContents();
  expect(trailClinics.length).toBeGreaterThan(0);
  expect(trailClinics.filter((c) => c.trim() !== GANGNAM)).toEqual([]);
  await page.goto(`/audit?clinic=${HONGDAE}`);
  await expect(page.locator('table tbody tr')).toHaveCount(0);
  await page.goto(`/audit/reservation-${ids.gangnamReservation}`);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: '접근 권한 없음' })).toHaveCount(0);

  for (const path of [`/audit/reservation-${ids.hongdaeReservation}`, `/audit/patient-${ids.minji}`, '/audit/access/review']) {
    await page.goto(path);
    await expectForbidden(page);
  }
});

test('a patient, and staff who do not manage, get 403 on every audit page', async ({ page }) => {
  const pages = ['/audit', '/audit/access', '/audit/access/review', `/audit/reservation-${ids.gangnamReservation}`];
  for (const email of [MINJI, 'gangnam.nurse@yeyak.example']) {
    await page.context().clearCookies();
    await signIn(page, email);
    await page.waitForURL(/\/(me|staff)/);
    for (const path of pages) {
      await page.goto(path);
      await expectForbidden(page);
    }
  }
});

test('the auditor records the monthly review, and it appears in the trail', async ({ page }) => {
  const month = new Date(Date.now() + 9 * 3_600_000).toISOString().slice(0, 7);
  await signIn(page, 'auditor@yeyak.example');
  await page.waitForURL('**/audit');
  await page.goto(`/audit/access/review?month=${month}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('접속기록 월간 점검');
  await expect(page.getByTestId('review-summary')).toContainText(month);
  await expect(page.getByTestId('review-none')).toBeVisible();
  const notes = `checked ${randomBytes(3).toString('hex')}`;
  await page.getByLabel('점검 메모').fill(notes);
  await shoot(page, 'access-review');
  await page.getByRole('button', { name: '점검 결과 기록' }).click();
  await expect(page.getByTestId('form-ok')).toBeVisible();
  await expect(page.getByTestId('review-history')).toContainText(notes);
  const [review] = await database.sql<{ month: string; notes: string }[]>`select month, notes from access_reviews order by id desc limit 1`;
  expect(review).toEqual({ month, notes });

  await page.goto('/audit?type=access_review');
  await expect(page.locator('table tbody tr').first()).toContainText('접속기록 월간 점검');
});
