import { expect, test } from '@playwright/test';
import postgres from 'postgres';
import { expectForbidden, signIn } from './helpers';

test.describe('sign-in lands each role on its home', () => {
  const cases = [
    { email: 'minji@yeyak.example', path: '/me', heading: '내 예약' },
    { email: 'gangnam.staff@yeyak.example', path: '/staff/gangnam-glow', heading: '강남 글로우 피부과 대시보드' },
    { email: 'auditor@yeyak.example', path: '/audit', heading: '감사' },
    { email: 'admin@yeyak.example', path: '/admin', heading: '관리' },
  ];
  for (const { email, path, heading } of cases) {
    test(email, async ({ page }) => {
      await signIn(page, email);
      await expect(page).toHaveURL(path);
      await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
      await expect(page.getByTestId('signed-in-as')).toBeVisible();
    });
  }
});

test('a wrong password is refused with a clear message and keeps the e-mail', async ({ page }) => {
  await signIn(page, 'seojun@yeyak.example', 'not-the-password-1');
  await expect(page.getByTestId('form-error')).toHaveText('이메일 또는 비밀번호가 올바르지 않습니다.');
  await expect(page).toHaveURL('/signin');
  await expect(page.getByLabel('이메일')).toHaveValue('seojun@yeyak.example');
  await page.goto('/me');
  await expect(page).toHaveURL(/\/signin\?callbackUrl=/);
});

test('repeated failures for one account are throttled, and the auditor sees them', async ({ page }) => {
  for (let i = 0; i < 5; i++) {
    await signIn(page, 'no-such-patient@yeyak.example', `wrong-password-${i}`);
    await expect(page.getByTestId('form-error')).toHaveText('이메일 또는 비밀번호가 올바르지 않습니다.');
  }
  await signIn(page, 'no-such-patient@yeyak.example', 'wrong-password-5');
  await expect(page.getByTestId('form-error')).toContainText('로그인 실패가 너무 많습니다');

  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  // The trail never shows the address typed (it may be a patient's): the failures read as an unknown account.
  const rows = page.getByRole('row');
  await expect.poll(() => rows.filter({ hasText: '로그인 실패' }).filter({ hasText: 'reason=unknown_account' }).count()).toBeGreaterThanOrEqual(5);
  await expect(rows.filter({ hasText: '로그인 거부 (시도 초과)' })).toHaveCount(1);
  await expect(page.getByRole('main')).not.toContainText('no-such-patient@yeyak.example');
});

test('a page asked for before signing in opens after signing in', async ({ page, baseURL }) => {
  // Not the admin's home (/admin), and with a query: a fall-back to home cannot pass.
  const asked = '/admin/projections?from=e2e&n=%ED%95%9C';
  await page.goto(asked);
  await expect(page).toHaveURL(/\/signin\?callbackUrl=/);
  // The proxy remembers it as a relative path (an absolute one is what the safety check refuses).
  expect(new URL(page.url()).searchParams.get('callbackUrl')).toBe(asked);
  await page.getByLabel('이메일').fill('admin@yeyak.example');
  await page.getByLabel('비밀번호').fill('yeyak-demo-2026');
  await page.getByRole('button', { name: '로그인', exact: true }).click();
  await expect(page).toHaveURL(`${baseURL}${asked}`);
});

test('a sign-in link pointing off the site lands on home instead', async ({ page }) => {
  await page.goto(`/signin?callbackUrl=${encodeURIComponent('/.//evil.example/x')}`);
  await page.getByLabel('이메일').fill('admin@yeyak.example');
  await page.getByLabel('비밀번호').fill('yeyak-demo-2026');
  await page.getByRole('button', { name: '로그인', exact: true }).click();
  await expect(page).toHaveURL('/admin');
});

test('a patient is blocked from staff and audit pages', async ({ page }) => {
  await signIn(page, 'minji@yeyak.example');
  await expect(page).toHaveURL('/me');
  for (const path of ['/staff/gangnam-glow', '/staff', '/audit', '/admin']) {
    await page.goto(path);
    await expectForbidden(page);
  }
});

test("staff are blocked from another clinic's pages", async ({ page }) => {
  // The nurse: plain staff (gangnam.staff is the clinic's manager, who may open the clinic's audit pages).
  await signIn(page, 'gangnam.nurse@yeyak.example');
  await expect(page).toHaveURL('/staff/gangnam-glow');
  await page.goto('/staff/apgujeong-line');
  await expectForbidden(page);
  await expect(page.getByText('압구정 라인 성형외과')).toHaveCount(0);
  await page.goto('/audit');
  await expectForbidden(page);
});

test('the forbidden page answers with HTTP 403', async ({ page }) => {
  await signIn(page, 'minji@yeyak.example');
  await expect(page).toHaveURL('/me');
  const response = await page.goto('/forbidden');
  expect(response?.status()).toBe(403);
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page, 'jiwoo@yeyak.example');
  await expect(page).toHaveURL('/me');
  await page.getByRole('button', { name: '로그아웃' }).click();
  await expect(page).toHaveURL('/signin');
  await page.goto('/me');
  await expect(page).toHaveURL(/\/signin/);
});

test('a client cannot choose the IP address recorded for its sign-in', async ({ browser }) => {
  const spoofing = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.99', 'x-real-ip': '203.0.113.98' } });
  const page = await spoofing.newPage();
  await signIn(page, 'spoofer@yeyak.example', 'wrong-password-0');
  await expect(page.getByTestId('form-error')).toBeVisible();
  await spoofing.close();

  // What the security log recorded (the trail shows neither typed addresses nor IPs).
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ ip: string }[]>`select ip from security_events where email = 'spoofer@yeyak.example'`;
    expect(rows.map((r) => r.ip)).toEqual(['127.0.0.1']);
  } finally {
    await sql.end();
  }
});

test('a session revoked elsewhere (sign out everywhere, password or role change) ends at its next request', async ({ page, context }) => {
  await signIn(page, 'seojun@yeyak.example');
  await expect(page).toHaveURL('/me');
  // What revokeAllSessions does from another device: the account's session version moves on.
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await sql`update users set session_version = session_version + 1 where email = 'seojun@yeyak.example'`;
  } finally {
    await sql.end();
  }
  await page.goto('/me');
  // To sign-in, not bounced back and forth: the refused session's cookie was cleared on the way.
  await expect(page).toHaveURL(/\/signin(\?|$)/);
  await expect(page.getByLabel('이메일')).toBeVisible();
  expect((await context.cookies()).map((c) => c.name)).not.toContain('authjs.session-token');
  await signIn(page, 'seojun@yeyak.example');
  await expect(page).toHaveURL('/me');
});
