/**
 * The patient's own pages: reservations, the cost of a cancellation or a move before confirming it,
 * the receipts after, erasing one's data, and another patient's reservation refused at the action.
 * Reservations are made in set-up through the real command layer (e2e/me-setup.ts); the running
 * worker and process managers do the rest, as in production.
 */
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { expectForbidden, signIn } from './helpers';
import { book, eventCount, openWorld, patientIdOf, payDeposit, projected, startAfter, startOn, type MeWorld } from './me-setup';

let w: MeWorld;
test.beforeAll(async () => {
  w = await openWorld();
});
test.afterAll(async () => {
  await w?.close();
});

const screens = '.data/screens';

/** Signs in and waits until the session is there (a page opened before would bounce to sign-in). */
async function signInAs(page: Page, email: string) {
  await signIn(page, email);
  await expect(page).toHaveURL('/me');
}

/** Full-page screenshots at 1280 and 375 px (looked at by hand; not an assertion). */
async function shoot(page: Page, name: string) {
  fs.mkdirSync(screens, { recursive: true });
  for (const [width, height] of [
    [1280, 900],
    [375, 800],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `${screens}/me-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

test('a cancellation inside the late window shows the fee and the refund before confirming, and the receipt shows them after', async ({ page }) => {
  const minji = await patientIdOf(w, 'minji@yeyak.example');
  // Inside the 48-hour window (3 hours ahead), deposit 50,000 paid; the frozen late fee is 20,000.
  const id = await book(w, minji, 'pay-and-book', startAfter(3));
  await payDeposit(w, minji, id);
  await book(w, minji, 'consult-first', startOn(9, '15:00')).then((other) => projected(w, other));

  await signInAs(page, 'minji@yeyak.example');
  const card = page.locator(`[data-reservation-id="${id}"]`);
  await expect(card.getByTestId('reservation-status')).toHaveText('예약 확정');
  await expect(card.getByTestId('timeline').locator('[data-step="deposit-paid"]')).toContainText('예약금 ₩50,000 결제');
  await shoot(page, 'list');

  await card.getByRole('link', { name: '상세 내역 및 영수증' }).click();
  await expect(page).toHaveURL(`/me/reservations/${id}`);
  await expect(page.getByTestId('paid')).toHaveText('₩50,000');
  await expect(page.getByTestId('paid-vat')).toHaveText('₩0'); // a deposit is an advance: no VAT until applied to the bill
  await expect(page.getByTestId('receipts').locator('[data-line="charge"]')).toContainText('₩50,000');
  await shoot(page, 'reservation');

  await page.getByRole('link', { name: '예약 취소', exact: true }).click();
  await expect(page.getByRole('heading', { name: '예약 취소' })).toBeVisible();
  await expect(page.getByTestId('preview-deposit')).toHaveText('₩50,000');
  await expect(page.getByTestId('preview-fee')).toHaveText('₩20,000');
  await expect(page.getByTestId('preview-refund')).toHaveText('₩30,000');
  await expect(page.getByTestId('cost-preview')).toContainText('48시간 이내의 취소');
  await shoot(page, 'cancel-preview');

  await page.getByRole('button', { name: '예약 취소하기' }).click();
  await expect(page).toHaveURL(new RegExp(`/me/reservations/${id}\\?done=cancelled`));
  await expect(page.getByTestId('done-cancelled')).toBeVisible();
  await expect(page.getByTestId('reservation-status')).toHaveText('예약 취소');
  await expect(page.getByTestId('fees')).toHaveText('₩20,000');
  // The card refund is the process manager's (after the cancellation): the receipt shows it once recorded.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('refunded')).toHaveText('₩30,000', { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  // A deposit is an advance: refunding it refunds no VAT (docs/payments.md).
  await expect(page.getByTestId('refunded-vat')).toHaveText('₩0');
  await expect(page.getByTestId('net')).toHaveText('₩20,000');
  await expect(page.getByTestId('refund-pending')).toHaveCount(0);
  await expect(page.getByTestId('receipts').locator('[data-line="refund"]')).toContainText('−₩30,000');
  const timeline = page.getByTestId('timeline');
  await expect(timeline.locator('[data-step="cancelled"]')).toContainText('수수료 ₩20,000, 환불 ₩30,000');
  await expect(timeline.locator('[data-step="refunded"]')).toContainText('카드로 ₩30,000 환불');
  await expect(timeline.locator('li').first()).toContainText('KST');
  // Closed: no more cancel or reschedule.
  await expect(page.getByRole('link', { name: '예약 취소', exact: true })).toHaveCount(0);
  await shoot(page, 'reservation-cancelled');

  // The same page in English (every message exists in both languages).
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Payments' })).toBeVisible();
  await expect(page.getByTestId('reservation-status')).toHaveText('Cancelled');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Laser toning');
  await shoot(page, 'reservation-cancelled-en');
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(page.getByRole('heading', { name: '결제 내역' })).toBeVisible();
});

test('a reservation moves to a free slot picked from the clinic availability, free outside the late window', async ({ page }) => {
  const minji = await patientIdOf(w, 'minji@yeyak.example');
  const from = startOn(5, '10:00');
  const id = await book(w, minji, 'consult-first', from);
  await projected(w, id);
  const day = new Date(new Date(from).getTime() + 9 * 3600_000).toISOString().slice(0, 10);

  await signInAs(page, 'minji@yeyak.example');
  await page.goto(`/me/reservations/${id}`);
  await page.getByRole('link', { name: '예약 시간 변경' }).click();
  await page.locator(`[data-testid="days"] a[href*="day=${day}"]`).click();
  await expect(page.locator('[data-testid="days"] [aria-current="date"]')).toHaveAttribute('href', new RegExp(day));
  // The current slot is not offered; 11:00 is free.
  await expect(page.getByTestId('slots').getByRole('link', { name: /^10:00/ })).toHaveCount(0);
  await page.getByTestId('slots').getByRole('link', { name: /^11:00/ }).click();
  await expect(page.getByTestId('preview-fee')).toHaveText('₩0');
  await expect(page.getByTestId('preview-refund')).toHaveText('₩0');
  await shoot(page, 'reschedule-preview');
  await page.getByRole('button', { name: '예약 시간 변경하기' }).click();

  await expect(page).toHaveURL(new RegExp(`/me/reservations/${id}\\?done=rescheduled`));
  await expect(page.getByTestId('done-rescheduled')).toBeVisible();
  await expect(page.getByTestId('slot').locator('time')).toHaveAttribute('datetime', startOn(5, '11:00'));
  await expect(page.getByTestId('timeline').locator('[data-step="rescheduled"]')).toBeVisible();
  const [row] = await w.database.sql<{ ms: string }[]>`select (extract(epoch from starts_at) * 1000)::bigint::text as ms from rm_reservations where id = ${id}`;
  expect(new Date(Number(row!.ms)).toISOString()).toBe(startOn(5, '11:00'));
});

test("a patient posting another patient's reservation id to the cancel and reschedule actions gets 403 and nothing is appended", async ({ page }) => {
  const minji = await patientIdOf(w, 'minji@yeyak.example');
  const seojun = await patientIdOf(w, 'seojun@yeyak.example');
  const hers = await book(w, minji, 'consult-first', startOn(6, '10:00'));
  const his = await book(w, seojun, 'consult-first', startOn(6, '12:00'));
  await projected(w, hers);
  await projected(w, his);

  await signInAs(page, 'seojun@yeyak.example');
  // Her reservation reads as absent, not as data.
  await page.goto(`/me/reservations/${hers}`);
  await expect(page.getByRole('heading', { name: '페이지를 찾을 수 없습니다' })).toBeVisible();
  await page.goto(`/me/reservations/${hers}/cancel`);
  await expect(page.getByRole('heading', { name: '페이지를 찾을 수 없습니다' })).toBeVisible();

  // His own confirm forms, posted with her reservation id put in: the request is rewritten on its
  // way out (as a hand-made POST would be), whatever the page's scripts do with the form.
  await page.route('**/me/reservations/**', async (route) => {
    const request = route.request();
    const body = request.postDataBuffer();
    if (request.method() !== 'POST' || !body) return route.continue();
    // The two ids have the same length, so the multipart body keeps its size.
    await route.continue({ postData: Buffer.from(body.toString('latin1').replaceAll(his, hers), 'latin1') });
  });
  const attempts = [
    { path: `/me/reservations/${his}/cancel`, button: '예약 취소하기' },
    { path: `/me/reservations/${his}/reschedule?day=${startOn(6, '14:00').slice(0, 10)}&startsAt=${encodeURIComponent(startOn(6, '14:00'))}`, button: '예약 시간 변경하기' },
  ];
  for (const attempt of attempts) {
    await page.goto(attempt.path);
    const before = await eventCount(w.database.sql);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: attempt.button }).click();
    const response = await posted;
    expect(response.status(), `${attempt.path} answered ${response.status()}`).toBe(403);
    await expectForbidden(page);
    expect(await eventCount(w.database.sql)).toBe(before);
  }
  await page.unroute('**/me/reservations/**');
  // Neither reservation changed.
  for (const id of [hers, his]) {
    const [r] = await w.database.sql<{ status: string }[]>`select status from rm_reservations where id = ${id}`;
    expect(r?.status).toBe('confirmed');
  }
  const [row] = await w.database.sql<{ status: string; ms: string }[]>`select status, (extract(epoch from starts_at) * 1000)::bigint::text as ms from rm_reservations where id = ${hers}`;
  expect(row).toEqual({ status: 'confirmed', ms: String(Date.parse(startOn(6, '10:00'))) });
});

test('erasing my data signs me out and ends the account: the e-mail no longer signs in, the account row and the security log keep nothing readable', async ({ page }) => {
  const email = `erase-${Date.now()}@yeyak.example`;
  const name = '한가람';
  const phone = '010-7777-1234';
  await page.goto('/register');
  await page.getByLabel('이름').fill(name);
  await page.getByLabel('이메일').fill(email);
  await page.getByLabel('비밀번호', { exact: true }).fill('a-good-password-42');
  await page.getByLabel('비밀번호 확인').fill('a-good-password-42');
  await page.getByLabel('휴대폰 번호').fill(phone);
  await page.getByLabel('생년월일').fill('1995-02-03');
  await page.getByLabel('예약 및 진료를 위한 개인정보 수집·이용에 동의합니다.').check();
  await page.getByRole('button', { name: '가입하기' }).click();
  // Registration confirms the e-mail first (the outbox holds the link; no mail server here).
  await expect(page).toHaveURL('/register/sent');
  const [mail] = await w.database.sql<{ payload: { verifyUrl: string } }[]>`
    select payload from email_outbox where lower(to_email) = ${email} and template = 'verify-email' order by id desc limit 1`;
  const link = new URL(mail!.payload.verifyUrl);
  await page.goto(`${link.pathname}${link.search}`);
  await expect(page).toHaveURL(/\/signin\?verified=1/);
  await signIn(page, email, 'a-good-password-42');
  await expect(page).toHaveURL('/me');
  const patientId = await patientIdOf(w, email);
  await projected(w, await book(w, patientId, 'consult-first', startOn(7, '10:00')));

  // The pages that show my name before.
  await page.goto('/me');
  await expect(page.getByTestId('welcome')).toHaveText(`${name}님, 환영합니다.`);
  await page.goto('/me/account');
  await expect(page.getByTestId('profile-name')).toHaveText(name);
  await expect(page.getByTestId('profile-phone')).toHaveText(phone);
  await shoot(page, 'account');

  // Contact change and a consent, through their actions (the patient is the session's).
  const newPhone = '010-8888-4321';
  await page.getByLabel('휴대폰 번호').fill('010 8888 4321');
  await expect(page.getByLabel('휴대폰 번호')).toHaveValue('010 8888 4321');
  await page.getByLabel('휴대폰 번호').fill('0108888-43');
  await page.getByRole('button', { name: '연락처 저장' }).click();
  await expect(page.getByTestId('error-phone')).toHaveText('010-1234-5678 형식의 휴대폰 번호를 입력하세요.');
  await page.getByLabel('휴대폰 번호').fill('01088884321');
  await page.getByRole('button', { name: '연락처 저장' }).click();
  await expect(page.getByTestId('form-ok')).toHaveText('연락처가 저장되었습니다.');
  await expect(page.getByTestId('profile-phone')).toHaveText(newPhone);
  const marketing = page.getByTestId('consent-marketing');
  await expect(marketing).toContainText('동의하지 않음');
  await marketing.getByRole('button', { name: '동의하기: 문자·이메일 이벤트 및 소식 수신' }).click();
  await expect(marketing).toContainText('동의 (버전 2026-01)');
  await expect(marketing.getByRole('button', { name: '동의 철회: 문자·이메일 이벤트 및 소식 수신' })).toBeVisible();

  await page.getByRole('button', { name: '개인정보 삭제…' }).click();
  const dialog = page.getByRole('dialog', { name: '개인정보를 삭제할까요?' });
  await expect(dialog).toBeVisible();
  const erase = dialog.getByRole('button', { name: '개인정보 삭제하기' });
  await expect(erase).toBeDisabled();
  await shoot(page, 'erase-dialog');
  await dialog.getByLabel('되돌릴 수 없다는 것을 이해했습니다.').check();
  await erase.click();

  // Signed out.
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByTestId('signed-in-as')).toHaveCount(0);
  await page.goto('/me');
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fme/);

  // The account is gone with the data (docs/privacy.md, "Erasure leaves nothing readable"): the
  // e-mail no longer signs in, the account row keeps only its id, the security log only pseudonyms.
  await page.getByLabel('이메일').fill(email);
  await page.getByLabel('비밀번호').fill('a-good-password-42');
  await page.getByRole('button', { name: '로그인', exact: true }).click();
  await expect(page.getByTestId('form-error')).toHaveText('이메일 또는 비밀번호가 올바르지 않습니다.');
  await expect(page).toHaveURL(/\/signin/);
  const [row] = await w.database.sql<{ name: string | null; phone: string | null; erased: boolean }[]>`select name, phone, erased from rm_patients where id = ${patientId}`;
  expect(row).toEqual({ name: null, phone: null, erased: true });
  const [account] = await w.database.sql<{ name: string; email: string; active: boolean }[]>`select name, email, active from users where id = ${patientId}`;
  expect(account).toEqual({ name: '', email: `erased-${patientId}@erased.invalid`, active: false });
  const plain = await w.database.sql`select id from security_events where user_id = ${patientId} and (email not like 'pseud:%' or ip not like 'pseud:%' or user_agent is not null)`;
  expect(plain).toEqual([]);
});
