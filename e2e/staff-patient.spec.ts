/**
 * Staff's view of a patient (issue 9, item 6) and the access log (issue 10, item 4), in the browser
 * against the production build. Set-up through the real command layer only: the patient books a
 * consultation at Hongdae Bloom. The clinic's staff open the patient from Today: the reservation is
 * listed, the contact hidden until "show contact", then shown, and the access_log row exists (account,
 * patient, action, resource, client IP). Staff of another clinic get 403 and nothing is logged.
 */
import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { bookReservation, commandMetadata, type CommandDeps } from '../lib/commands';
import { connect, type Database } from '../lib/db/client';
import { atLocal, clinicDay, plusMinutes, weekdayOfDay } from '../lib/domain';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';
import { expectForbidden, signIn } from './helpers';

const HONGDAE = 'hongdae-bloom';
const WART = 'hongdae-bloom-wart-cryo'; // consult-first, instant, no deposit: confirmed at once
// Outside .data/test-results, which every test run empties first (another run may start right after this one).
const SHOTS = '.data/screenshots/staff-patient';
const SEOJUN = { email: 'seojun@yeyak.example', phone: '010-3456-7890' };

let database: Database;
let store: EventStore;
let deps: CommandDeps;
let patientId: string;
let staffId: string;
let reservationId: string;

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
const accessRows = (resource: string) =>
  database.sql<{ account_id: string; role: string; clinic_id: string | null; ip: string | null; action: string; patient_ids: string[] }[]>`
    select account_id::text, role, clinic_id, ip, action, patient_ids from access_log where resource = ${resource} and ${patientId} = any(patient_ids) order by id`;

test.beforeAll(async () => {
  test.setTimeout(60_000);
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
  if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  database = connect(url, { max: 2 });
  store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-staff-patient' });
  deps = commandDepsFor(database.sql, store, masterKey);
  patientId = await userId(SEOJUN.email);
  staffId = await userId('hongdae.staff@yeyak.example');
  reservationId = `rsv-sp-${randomBytes(5).toString('hex')}`;
  const startsAt = atLocal(weekdayAhead(60 + Math.floor(Math.random() * 20)), '15:00').toISOString();
  await bookReservation(
    deps,
    { reservationId, clinicId: HONGDAE, patientId, treatmentId: WART, kind: 'consult-first', startsAt },
    commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId: HONGDAE, ip: '127.0.0.1', userAgent: 'e2e set-up' }),
  );
  const end = Date.now() + 20_000;
  while ((await database.sql`select 1 from rm_reservations where id = ${reservationId}`).length === 0) {
    if (Date.now() > end) throw new Error('the reservation never reached the read model');
    await new Promise((r) => setTimeout(r, 200));
  }
});
test.afterAll(async () => {
  await store?.close();
  await database?.close();
});

test("the clinic's staff see the patient's reservation; the contact only after 'show contact', which is in the access log", async ({ page }) => {
  await signIn(page, 'hongdae.staff@yeyak.example');
  await page.waitForURL(`**/staff/${HONGDAE}`);
  await page.goto(`/staff/${HONGDAE}/patients/${patientId}`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('이서준');
  await expect(page.getByTestId('patient-reservations').locator(`[data-reservation="${reservationId}"]`)).toContainText('사마귀 냉동치료');
  // Hidden until asked: neither the phone nor the e-mail is in the page, and nothing is logged yet
  // (other specs may have revealed this patient's contact before: only rows from here on count).
  const earlier = (await accessRows('patient-contact')).length;
  await expect(page.getByRole('button', { name: '연락처 보기' })).toBeVisible();
  expect(await page.content()).not.toContain(SEOJUN.phone);
  expect(await page.content()).not.toContain(SEOJUN.email);
  expect(await accessRows('patient-contact')).toHaveLength(earlier);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: `${SHOTS}/patient-1280.png`, fullPage: true });

  await page.getByRole('button', { name: '연락처 보기' }).click();
  const contact = page.getByTestId('patient-contact');
  await expect(contact).toContainText(SEOJUN.phone);
  await expect(contact).toContainText(SEOJUN.email);
  const rows = (await accessRows('patient-contact')).slice(earlier);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ account_id: staffId, role: 'staff', clinic_id: HONGDAE, action: 'view', patient_ids: [patientId] });
  expect(rows[0]!.ip).toBeTruthy();
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: `${SHOTS}/patient-375-contact.png`, fullPage: true });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
});

test('staff of another clinic get 403 for the page, and nothing is logged', async ({ page }) => {
  const before = (await accessRows('patient-contact')).length + (await accessRows('patient-name')).length;
  await signIn(page, 'sinsa.staff@yeyak.example');
  await page.waitForURL('**/staff/sinsa-clear');
  await page.goto(`/staff/${HONGDAE}/patients/${patientId}`);
  await expectForbidden(page);
  expect(await page.content()).not.toContain(SEOJUN.phone);
  expect((await accessRows('patient-contact')).length + (await accessRows('patient-name')).length).toBe(before);
});
