/**
 * The audit entity page (/audit/<stream>, issue 10 item 2). Set-up through the real command layer
 * (e2e/me-setup.ts): a patient books a pay-and-book reservation at a clinic of the test's own, pays the
 * deposit through the sandbox, then cancels inside the late window; the running worker's process
 * managers release the slot and refund the card. The auditor opens the reservation from the trail,
 * reads the cancellation's diff and refund, the state just before it, and follows the correlation to
 * the refund on the payment stream. Patients, staff and admins get 403.
 */
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { cancelReservation, commandMetadata, depositPaymentId } from '../lib/commands';
import { expectForbidden, signIn } from './helpers';
import { book, openWorld, patientIdOf, payDeposit, startAfter, type MeWorld } from './me-setup';

let w: MeWorld;
let reservationId: string;
let paymentStream: string;
let patientId: string;
const PATIENT = 'seojun@yeyak.example';

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test.beforeAll(async () => {
  test.setTimeout(90_000);
  w = await openWorld();
  patientId = await patientIdOf(w, PATIENT);
  // Six hours ahead: inside the clinic's 48-hour window, so the patient's cancellation is late (fee 20,000 of the 50,000 deposit).
  reservationId = await book(w, patientId, 'pay-and-book', startAfter(6));
  await payDeposit(w, patientId, reservationId);
  await cancelReservation(
    w.deps,
    { reservationId, by: 'patient', reason: 'patient: schedule' },
    commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId: w.clinicId, ip: '198.51.100.23', userAgent: 'e2e audit-entity' }),
  );
  paymentStream = `payment-${depositPaymentId(reservationId)}`;
  // The refund is the process manager's; the entity page finds it through the audit log's correlation index.
  await until('the refund in the audit log', async () => {
    const rows = await w.database.sql`select 1 from rm_audit_log where stream_id = ${paymentStream} and event_type = 'PaymentRefunded'`;
    return rows.length > 0;
  });
});
test.afterAll(async () => {
  await w?.close();
});

const screens = '.data/screens';
async function shoot(page: Page, name: string) {
  fs.mkdirSync(screens, { recursive: true });
  for (const [width, height] of [
    [1280, 900],
    [375, 800],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `${screens}/audit-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

test('an auditor opens a cancelled reservation from the trail, reads its diff and past state, and follows the refund', async ({ page }) => {
  test.setTimeout(60_000);
  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  // Found by patient (their pseudonymous id) and the kind of change, through the trail's filter form.
  const filters = page.getByRole('form', { name: '변경 이력 필터' });
  await filters.getByLabel('환자 ID').fill(patientId);
  await filters.getByLabel('이벤트 유형').selectOption('ReservationCancelled');
  await filters.getByRole('button', { name: '필터 적용' }).click();
  await expect(page).toHaveURL(new RegExp(`patient=${patientId}.*type=ReservationCancelled`));
  const trail = page.getByRole('table', { name: '변경 이력' });
  const row = trail.getByRole('row').filter({ hasText: `reservation-${reservationId}@3` });
  await expect(row).toContainText('예약 취소');
  await expect(row).toContainText(patientId);
  // The name only on demand (the read is recorded in the access log).
  await expect(row.getByTestId('patient-name')).toHaveCount(0);
  await row.getByRole('button', { name: '이름 보기' }).click();
  await expect(row.getByTestId('patient-name')).toHaveText('이서준 Lee Seojun');
  const [nameRead] = await w.database.sql`select action, resource from access_log where resource = 'patient-name' and ${patientId} = any(patient_ids) and detail->>'from' = 'audit-trail'`;
  expect(nameRead).toMatchObject({ action: 'view', resource: 'patient-name' });
  await shoot(page, 'trail-by-patient');
  await row.getByRole('link', { name: `reservation-${reservationId}@3` }).click();
  await expect(page).toHaveURL(new RegExp(`/audit/reservation-${reservationId}#rev-3$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`reservation-${reservationId}`);

  // The cancellation: who, how, and what it changed.
  const cancelled = page.getByRole('article', { name: /#3 ReservationCancelled/ });
  const meta = cancelled.getByRole('definition');
  await expect(cancelled.getByLabel('메타데이터 #3')).toContainText('CancelReservation');
  await expect(cancelled.getByLabel('메타데이터 #3')).toContainText('(patient)');
  await expect(cancelled.getByLabel('메타데이터 #3')).toContainText('198.51.100.23');
  await expect(cancelled.getByLabel('메타데이터 #3')).toContainText('e2e audit-entity');
  await expect(cancelled.getByLabel('메타데이터 #3')).toContainText('KST');
  expect(await meta.count()).toBeGreaterThan(8);
  const diff = cancelled.getByRole('table', { name: '상태 변경 #3' });
  await expect(diff.getByRole('row', { name: /^status/ })).toContainText('confirmed');
  await expect(diff.getByRole('row', { name: /^status/ })).toContainText('cancelled');
  await expect(diff.getByRole('row', { name: /^feesDueKrw/ })).toContainText('₩20,000');
  await cancelled.locator('summary', { hasText: '이벤트 데이터' }).click();
  await expect(cancelled.getByRole('table', { name: '이벤트 데이터 #3' }).getByRole('row', { name: /^refundDueKrw/ })).toContainText('₩30,000');

  // The state just before the cancellation, beside the current one.
  const byEvent = page.getByRole('form', { name: '이벤트 기준 상태' });
  await byEvent.getByLabel('기준 이벤트').selectOption('2');
  await byEvent.getByRole('button', { name: '보기' }).click();
  await expect(page).toHaveURL(/\?rev=2#state$/);
  const comparison = page.getByRole('table', { name: '상태: 기준 시점과 현재' });
  await expect(comparison.getByRole('columnheader', { name: '#2 직후' })).toBeVisible();
  const status = comparison.getByRole('row', { name: /^status/ });
  await expect(status).toHaveAttribute('data-changed', 'true');
  await expect(status.getByRole('cell').nth(0)).toHaveText('confirmed');
  await expect(status.getByRole('cell').nth(1)).toHaveText('cancelled');
  await expect(comparison.getByRole('row', { name: /^depositPaidKrw/ })).not.toHaveAttribute('data-changed', 'true');
  await shoot(page, 'reservation');

  // As of a moment (KST, to the second): a minute before the booking, the reservation did not exist yet.
  const [first] = await w.database.sql<{ ms: number }[]>`select (extract(epoch from recorded_at) * 1000)::float8 as ms from es_events where stream_id = ${`reservation-${reservationId}`} order by revision limit 1`;
  const minuteBefore = new Date(Number(first!.ms) - 60_000 + 9 * 3600_000).toISOString().slice(0, 19);
  const byMoment = page.getByRole('form', { name: '시각 기준 상태' });
  await byMoment.getByLabel('기준 시각 (KST)').fill(minuteBefore);
  await byMoment.getByRole('button', { name: '보기' }).click();
  // Chromium leaves out ":00" seconds in the submitted value.
  await expect(page).toHaveURL(new RegExp(`\\?at=${minuteBefore.slice(0, 16).replaceAll(':', '%3A')}(%3A${minuteBefore.slice(17, 19)})?#state$`));
  await expect(comparison.getByRole('columnheader', { name: /아직 이벤트 없음/ })).toBeVisible();
  await expect(comparison.getByRole('row', { name: /^status/ }).getByRole('cell').nth(0)).toHaveText('none');

  // The cancellation's conversation: the slot released and the card refunded, by the process managers.
  const conversation = page.getByTestId('conversation').filter({ hasText: 'ReservationCancelled' });
  await expect(conversation).toContainText('SlotReleased');
  await conversation.getByRole('link', { name: new RegExp(`^${paymentStream}#\\d+$`) }).click();
  await expect(page).toHaveURL(new RegExp(`/audit/${paymentStream}#rev-\\d+$`));
  const refunded = page.getByRole('article', { name: /PaymentRefunded/ });
  const refundDiff = refunded.getByRole('table', { name: /상태 변경/ });
  await expect(refundDiff.getByRole('row', { name: /^status/ })).toContainText('partially-refunded');
  await expect(refundDiff.getByRole('row', { name: /^refundedKrw/ })).toContainText('₩30,000');
  await expect(refunded.getByLabel(/메타데이터/)).toContainText('(system)');
  // And back: the refund's conversation leads to the reservation.
  await expect(page.getByTestId('conversation').filter({ hasText: 'PaymentRefunded' }).getByRole('link', { name: new RegExp(`^reservation-${reservationId}#3$`) })).toBeVisible();
  await shoot(page, 'payment');
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Related (same correlation id)' })).toBeVisible();
  await expect(page.getByRole('article', { name: /PaymentRefunded/ }).getByRole('table', { name: /State change/ })).toBeVisible();
  await shoot(page, 'payment-en');
});

test('an auditor exports the filtered trail with a reason, and finds the export recorded', async ({ page }) => {
  test.setTimeout(60_000);
  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  await page.goto(`/audit?patient=${patientId}`);
  const exporter = page.getByRole('form', { name: '이 조건으로 내보내기' });
  const reason = `e2e 감사 요청 ${Date.now()}`;
  await exporter.getByLabel('내보내기 사유 (필수)').fill(reason);
  const [download] = await Promise.all([page.waitForEvent('download'), exporter.getByRole('button', { name: '내보내기' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^yeyak-audit-trail-\d{8}T\d{4}\.csv$/);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  // The patient's rows only: the cancellation among them, and no one else's.
  expect(csv).toContain(`reservation-${reservationId},3,`);
  const rows = csv.replace(/^\uFEFF/, '').trim().split('\n').slice(1);
  expect(rows.length).toBeGreaterThan(3);
  expect(rows.every((r) => r.includes(patientId))).toBe(true);

  // The export in the access log (with its reason and filter) and in the trail as a security event.
  const [entry] = await w.database.sql`select action, resource, reason, detail from access_log where reason = ${reason}`;
  expect(entry).toMatchObject({ action: 'export', resource: 'audit-trail', reason });
  expect((entry!.detail as { filters: Record<string, string> }).filters).toMatchObject({ patient: patientId });
  await page.goto('/audit?type=export');
  const trail = page.getByRole('table', { name: '변경 이력' });
  await expect(trail.getByRole('row').filter({ hasText: reason })).toContainText('내보내기');
  await shoot(page, 'trail-exports');

  // A reason is required (the browser asks first; the server too).
  await page.goto('/audit');
  await expect(page.getByRole('form', { name: '이 조건으로 내보내기' }).getByLabel('내보내기 사유 (필수)')).toHaveAttribute('required', '');
});

test('a malformed point in time is reported and ignored; an unknown stream is 404', async ({ page }) => {
  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  await page.goto(`/audit/reservation-${reservationId}?at=tomorrow`);
  await expect(page.getByTestId('as-of-error')).toHaveText('기준 시점이 올바르지 않아 무시했습니다.');
  await expect(page.getByRole('table', { name: '현재 상태' })).toBeVisible();
  await page.goto(`/audit/reservation-${reservationId}?rev=99`);
  await expect(page.getByTestId('as-of-error')).toHaveText('이 스트림에는 리비전 #99이 없습니다.');
  const missing = await page.goto('/audit/reservation-does-not-exist');
  expect(missing?.status()).toBe(404);
});

for (const [who, email, home] of [
  ['a patient', PATIENT, '/me'],
  ['a staff member', 'gangnam.staff@yeyak.example', '/staff/gangnam-glow'],
  ['an administrator', 'admin@yeyak.example', '/admin'],
] as const) {
  test(`${who} gets 403 on an entity page`, async ({ page }) => {
    await signIn(page, email);
    await expect(page).toHaveURL(new RegExp(`^[^?]*${home}`));
    const response = await page.goto(`/audit/reservation-${reservationId}`);
    expect(response?.status()).toBe(403);
    await expectForbidden(page);
    await expect(page.getByText('CancelReservation')).toHaveCount(0);
  });
}

for (const [who, email, home] of [
  ['a patient', PATIENT, '/me'],
  ['a staff member who is not a manager', 'gangnam.nurse@yeyak.example', '/staff/gangnam-glow'],
  ['an administrator', 'admin@yeyak.example', '/admin'],
] as const) {
  test(`${who} gets 403 on the trail and its export, and the refusal is in the trail`, async ({ page }) => {
    await signIn(page, email);
    await expect(page).toHaveURL(new RegExp(`^[^?]*${home}`));
    expect((await page.goto('/audit'))?.status()).toBe(403);
    await expectForbidden(page);
    const exported = await page.request.post('/audit/export', { form: { log: 'trail', format: 'csv', reason: 'not mine to take' } });
    expect(exported.status()).toBe(403);
    const [refusal] = await w.database.sql`
      select s.detail from security_events s join users u on u.id = s.user_id
      where u.email = ${email} and s.type = 'refused' and s.detail->>'at' = '/audit' order by s.id desc limit 1`;
    // Refused by the proxy (patients, admins) or by the page's own check (staff who are not managers).
    expect(refusal!.detail).toMatchObject({ at: '/audit' });
  });
}
