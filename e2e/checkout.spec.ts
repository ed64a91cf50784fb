import { expect, test, type Page } from '@playwright/test';
import { formatSeoulDate } from '../lib/format';
import { expectForbidden } from './helpers';
import { database, eventCount, openReview, pickTreatment, signInAs, slotOn, submitBooking, type Pick } from './booking-helpers';

// Each test books on its own day (offsets 30+ days ahead). The cards are the sandbox's (docs/payments.md).
const APPROVE = '4242 4242 4242 4242';
const DECLINE = '4000 0000 0000 0002';
const TIMEOUT_APPROVED = '4000 0000 0000 9995';

/** Pay and book through the page; returns the checkout's payment id once its card step shows. */
async function payAndBook(page: Page, pick: Pick, startsAt: string): Promise<string> {
  await openReview(page, pick, startsAt, 'pay-and-book');
  await submitBooking(page);
  // The page after booking waits for the deposit request, then opens its checkout.
  await expect(page).toHaveURL(/\/checkout\/deposit-[0-9a-f]+$/, { timeout: 15_000 });
  await expect(page.getByTestId('card-widget')).toBeVisible();
  return new URL(page.url()).pathname.split('/').pop()!;
}

async function payWith(page: Page, card: string) {
  await page.getByLabel('카드 번호').fill(card);
  await page.getByTestId('card-widget').getByRole('button', { name: /결제하기$/ }).click();
}

async function charges(sql: ReturnType<typeof database>, paymentId: string) {
  const rows = await sql<{ status: string }[]>`select status from payment_sandbox_payments where order_id = ${paymentId} order by requested_at`;
  return { attempts: rows.length, charged: rows.filter((r) => ['DONE', 'PARTIAL_CANCELED', 'CANCELED'].includes(r.status)).length };
}

test('pay and book at an instant clinic with the approving card: the order is shown, the reservation is confirmed', async ({ page }) => {
  const pick = pickTreatment({ kind: 'pay-and-book', mode: 'instant' });
  const slot = slotOn(pick.clinic, 30, 1);
  await signInAs(page, 'minji@yeyak.example');
  await payAndBook(page, pick, slot.startsAt);

  // The order as a PG window shows it: clinic, what for, the slot in Korea time, the deposit in KRW.
  const order = page.getByTestId('order-summary');
  await expect(order).toContainText(pick.clinic.name);
  await expect(order).toContainText(pick.treatment.name);
  await expect(page.getByTestId('order-slot')).toContainText(`${formatSeoulDate(new Date(slot.startsAt), 'ko')} ${slot.time}`);
  await expect(page.getByTestId('order-amount')).toHaveText(`₩${pick.treatment.depositKrw.toLocaleString('en-US')}`);
  // The sandbox's test cards are listed on the page.
  for (const card of [APPROVE, DECLINE, TIMEOUT_APPROVED, '4000 0000 0000 9987']) await expect(page.getByTestId('test-cards')).toContainText(card);

  await payWith(page, APPROVE);
  await expect(page.getByTestId('checkout-paid')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('reservation-outcome')).toHaveText('예약이 확정되었습니다.');
});

test('pay and book at a clinic that confirms itself: paid, and waiting for the clinic', async ({ page }) => {
  const pick = pickTreatment({ kind: 'pay-and-book', mode: 'clinic-confirm' });
  const slot = slotOn(pick.clinic, 32, 1);
  await signInAs(page, 'seojun@yeyak.example');
  await payAndBook(page, pick, slot.startsAt);
  await payWith(page, APPROVE);
  await expect(page.getByTestId('checkout-paid')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('reservation-outcome')).toContainText('병원 확인을 기다리고 있습니다');
});

test('a declined card says so clearly; paying again with the approving card succeeds, and only one charge exists', async ({ page }) => {
  const sql = database();
  try {
    const pick = pickTreatment({ kind: 'pay-and-book', mode: 'instant' });
    const slot = slotOn(pick.clinic, 34, 2);
    await signInAs(page, 'jiwoo@yeyak.example');
    const paymentId = await payAndBook(page, pick, slot.startsAt);
    await payWith(page, '4242 4242 4242 4241');
    await expect(page.getByTestId('error-cardNumber')).toContainText('사용할 수 없는 카드입니다');

    await payWith(page, DECLINE);
    await expect(page).toHaveURL(new RegExp(`/checkout/${paymentId}/fail\\?code=REJECT_CARD_PAYMENT`), { timeout: 15_000 });
    await expect(page.getByTestId('fail-message')).toContainText('카드사에서 결제를 거절했습니다');
    await page.getByRole('link', { name: '다시 결제하기' }).click();
    await expect(page.getByTestId('last-decline')).toBeVisible();

    await payWith(page, APPROVE);
    await expect(page.getByTestId('reservation-outcome')).toHaveText('예약이 확정되었습니다.', { timeout: 15_000 });
    expect(await charges(sql, paymentId)).toEqual({ attempts: 2, charged: 1 });
    const [captured] = await sql<{ n: string }[]>`select count(*)::text as n from es_events where stream_id = ${`payment-${paymentId}`} and type = 'PaymentCaptured'`;
    expect(captured!.n).toBe('1');
  } finally {
    await sql.end();
  }
});

test('the time-out card shows that the payment is being checked, and the reservation settles once the reconciliation runs', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const pick = pickTreatment({ kind: 'pay-and-book', mode: 'instant' });
  const slot = slotOn(pick.clinic, 36, 3);
  await signInAs(page, 'minji@yeyak.example');
  const paymentId = await payAndBook(page, pick, slot.startsAt);
  await payWith(page, TIMEOUT_APPROVED);
  // The gateway does not answer (the sandbox waits 5 s): nothing is recorded, and no second payment is offered.
  await expect(page.getByTestId('checkout-checking')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('checkout-checking')).toContainText('카드사에 결제 결과를 확인하고 있습니다');
  await page.reload();
  await expect(page.getByTestId('checkout-checking')).toBeVisible();
  await expect(page.getByTestId('card-widget')).toHaveCount(0);

  // The reconciliation, run now by an admin (what the worker's timer does every 30 s).
  const admin = await browser.newContext();
  try {
    const adminPage = await admin.newPage();
    await signInAs(adminPage, 'admin@yeyak.example');
    await adminPage.goto('/admin/payments');
    await adminPage.getByTestId('reconcile-now').getByRole('button', { name: '대기 중인 결제 지금 확인' }).click();
    await expect(adminPage.getByTestId('form-ok')).toHaveText('확인했습니다. PG가 알려준 결과를 기록했습니다.');
  } finally {
    await admin.close();
  }
  // The patient's page updates by itself.
  await expect(page.getByTestId('reservation-outcome')).toHaveText('예약이 확정되었습니다.', { timeout: 20_000 });
  expect(page.url()).toContain(paymentId);
});

test("a patient posting the checkout for another patient's payment gets 403, and nothing is appended or charged", async ({ browser }) => {
  const sql = database();
  const [ctxA, ctxB] = await Promise.all([browser.newContext(), browser.newContext()]);
  try {
    const pick = pickTreatment({ kind: 'pay-and-book', mode: 'instant' });
    const [a, b] = await Promise.all([ctxA.newPage(), ctxB.newPage()]);
    await signInAs(a, 'seojun@yeyak.example');
    const paymentOfA = await payAndBook(a, pick, slotOn(pick.clinic, 38, 1).startsAt);
    await signInAs(b, 'jiwoo@yeyak.example');
    await payAndBook(b, pick, slotOn(pick.clinic, 38, 2).startsAt);

    const before = await eventCount(sql);
    // B's own card form, carrying A's payment id (set after typing the card: typing re-renders the form).
    await b.getByLabel('카드 번호').fill(APPROVE);
    await b.locator('input[name="paymentId"]').evaluate((el, id) => ((el as HTMLInputElement).value = id), paymentOfA);
    await b.getByTestId('card-widget').getByRole('button', { name: /결제하기$/ }).click();
    await expectForbidden(b);
    expect(await eventCount(sql)).toBe(before);
    expect(await charges(sql, paymentOfA)).toEqual({ attempts: 0, charged: 0 });

    // The pages of A's payment are A's only.
    for (const path of [`/checkout/${paymentOfA}`, `/checkout/${paymentOfA}/success?paymentKey=x&orderId=${paymentOfA}&amount=1`, `/checkout/${paymentOfA}/fail?code=X`]) {
      await b.goto(path);
      await expectForbidden(b);
    }
    expect(await eventCount(sql)).toBe(before);
  } finally {
    await Promise.all([ctxA.close(), ctxB.close()]);
    await sql.end();
  }
});
