/**
 * Issue 11.13: a payment whose reconciliation cannot settle it is parked where a person sees it —
 * the admin payments page — with what the gateway knows, and the admin resolves it (recorded as an
 * event under their name). The payment is made stuck by the real code: a checkout authorized a card
 * and never confirmed (the gateway shows IN_PROGRESS for ever) and the reconciliation, run with a
 * threshold of one check, parks it.
 */
import { expect, test } from '@playwright/test';
import { commandMetadata, depositPaymentId, reconcilePendingPayments, startDepositAttempt, SYSTEM_ACTOR } from '../lib/commands';
import { expectForbidden, signIn } from './helpers';
import { book, openWorld, patientIdOf, startOn, type MeWorld } from './me-setup';

let w: MeWorld;
test.beforeAll(async () => {
  w = await openWorld();
});
test.afterAll(async () => {
  await w?.close();
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a stuck payment is on the admin page with what the gateway knows, and the admin resolves it as an event', async ({ page }) => {
  const patientId = await patientIdOf(w, 'jiwoo@yeyak.example');
  const reservationId = await book(w, patientId, 'pay-and-book', startOn(9, '15:00'));
  const paymentId = depositPaymentId(reservationId);
  await until(async () => ((await w.database.sql`select 1 from pm_pending_payments where payment_id = ${paymentId}`).length ? true : undefined));
  const attempt = await startDepositAttempt(
    w.deps,
    { paymentId, cardNumber: '4242424242424242' },
    commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId: w.clinicId }),
  );
  // The reconciliation, three minutes on (past the first check's delay), parking after one check without an outcome.
  const later = { ...w.deps, clock: () => new Date(Date.now() + 3 * 60_000) };
  const result = await reconcilePendingPayments(later, commandMetadata({ actor: SYSTEM_ACTOR }), { sql: w.database.sql, maxChecks: 1 });
  expect(result.stuck).toBeGreaterThanOrEqual(1);

  await signIn(page, 'admin@yeyak.example');
  await expect(page).toHaveURL('/admin');
  await page.getByRole('link', { name: /확인이 필요한 결제/ }).click();
  await expect(page).toHaveURL('/admin/payments');
  const row = page.locator(`[data-payment-id="${paymentId}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId('gateway-status')).toHaveText('IN_PROGRESS');
  await expect(row).toContainText(attempt.paymentKey);
  await expect(row).toContainText('₩50,000');

  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `test-results/admin-payments-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // A note is required (checked on the server: blanks around a single letter do not count).
  await row.getByLabel('해결 메모').fill('  x');
  await row.getByRole('button', { name: '해결: 미결제로 종료' }).click();
  await expect(row).toContainText('메모를 3자 이상 500자 이하로 입력하세요.');

  await row.getByLabel('해결 메모').fill('환자가 전화로 현장 결제를 원함');
  await row.getByRole('button', { name: '해결: 미결제로 종료' }).click();
  await expect(row).toHaveCount(0);
  const [failed] = await w.database.sql<{ actor: string; reason: string }[]>`
    select metadata->'actor'->>'role' as actor, data->>'reason' as reason from es_events
    where stream_id = ${`payment-${paymentId}`} and type = 'PaymentFailed'`;
  expect(failed).toMatchObject({ actor: 'admin' });
  expect(failed!.reason).toContain('환자가 전화로 현장 결제를 원함');

  // The reconciliation on demand, from the page.
  await page.getByRole('button', { name: '대기 중인 결제 지금 확인' }).click();
  await expect(page.getByTestId('reconcile-now').getByTestId('form-ok')).toBeVisible();
});

test('only admins reach the payments page', async ({ page }) => {
  await signIn(page, 'gangnam.staff@yeyak.example');
  await page.waitForURL(/\/staff/);
  await page.goto('/admin/payments');
  await expectForbidden(page);
});
