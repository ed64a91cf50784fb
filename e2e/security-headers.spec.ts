import { expect, test, type Page } from '@playwright/test';
import { signIn } from './helpers';

/** Collects CSP violations the page reports (console and the securitypolicyviolation event). */
async function watchCsp(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply|connect)/i.test(m.text())) violations.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to load (CSP): ${e.violatedDirective} ${e.blockedURI}`));
  });
  return violations;
}

const hydrated = (page: Page, selector: string) =>
  page.locator(selector).first().evaluate((el) => Object.keys(el).some((k) => k.startsWith('__reactFiber') || k.startsWith('__reactProps')));

test('pages carry a nonce-based CSP, frame and transport headers; the nonce is fresh per request and on every script', async ({ request }) => {
  const nonces = new Set<string>();
  for (const path of ['/', '/signin', '/clinics/gangnam-glow']) {
    const response = await request.get(path);
    expect(response.status()).toBe(200);
    const headers = response.headers();
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    nonces.add(nonce!);
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['strict-transport-security']).toMatch(/^max-age=\d{8}/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  }
  expect(nonces.size).toBe(3);
});

test('no page breaks the policy, and the pages hydrate: the sign-in form submits through React', async ({ page }) => {
  const violations = await watchCsp(page);
  for (const path of ['/', '/clinics/gangnam-glow', '/register', '/signin']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
  }
  expect(await hydrated(page, 'form')).toBe(true);
  await signIn(page, 'admin@yeyak.example');
  await expect(page).toHaveURL('/admin');
  for (const path of ['/admin', '/admin/projections']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
  }
  await page.getByRole('button', { name: '로그아웃' }).click();
  await expect(page).toHaveURL('/signin');
  for (const [email, path] of [
    ['auditor@yeyak.example', '/audit'],
    ['gangnam.staff@yeyak.example', '/staff/gangnam-glow'],
    ['minji@yeyak.example', '/me'],
  ] as const) {
    await signIn(page, email);
    await expect(page).toHaveURL(path);
    await page.waitForLoadState('networkidle');
    expect(await hydrated(page, 'header button, main a, main button')).toBe(true);
    await page.getByRole('button', { name: '로그아웃' }).click();
    await expect(page).toHaveURL('/signin');
  }
  expect(violations).toEqual([]);
});

test('a page cannot be framed by another site (clickjacking)', async ({ page, baseURL }) => {
  const messages: string[] = [];
  page.on('console', (m) => messages.push(m.text()));
  await page.setContent(`<iframe src="${baseURL}/signin"></iframe>`);
  // Chromium refuses to show it and says why on the console.
  await expect.poll(() => messages.some((m) => /frame-ancestors|X-Frame-Options/i.test(m)), { timeout: 10_000 }).toBe(true);
});

test('client-sent X-Forwarded-Host and -Proto do not steer where the app sends the user', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
  const page = await context.newPage();
  await signIn(page, 'jiwoo@yeyak.example');
  await expect(page).toHaveURL(`${baseURL}/me`);
  await page.getByRole('button', { name: '로그아웃' }).click();
  await expect(page).toHaveURL(`${baseURL}/signin`);
  await context.close();
});
