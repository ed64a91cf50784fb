import { expect, test } from '@playwright/test';
import { expectForbidden, signIn } from './helpers';

test('an admin sees every read model live and rebuilds one through the worker', async ({ page }) => {
  await signIn(page, 'admin@yeyak.example');
  await expect(page).toHaveURL('/admin');
  await page.getByRole('link', { name: '읽기 모델 (프로젝션)' }).click();
  await expect(page).toHaveURL('/admin/projections');

  const catalogue = page.getByRole('row', { name: /catalogue/ });
  await expect(catalogue).toContainText('운영 중');
  await expect(page.getByText('보류된 이벤트가 없습니다.')).toBeVisible();

  // The set-up rebuilt every projection already: note when, and how many events, before asking again.
  const lastRebuild = catalogue.getByText(/마지막 재구축/);
  const before = await lastRebuild.textContent();
  const eventsIn = (text: string | null) => Number(/([\d,]+)개 이벤트/.exec(text ?? '')?.[1]?.replaceAll(',', '') ?? NaN);
  expect(eventsIn(before)).toBeGreaterThan(0);

  await catalogue.getByRole('button', { name: 'catalogue 재구축' }).click();
  await expect(page.getByText('재구축을 요청했습니다.', { exact: false })).toBeVisible();
  // The worker picks the request up, replays the log into fresh tables and switches them in: a new
  // "last rebuilt" line (its time, to the second, differs), over at least as many events.
  await expect
    .poll(async () => ((await lastRebuild.count()) > 0 ? await lastRebuild.textContent() : before), { timeout: 20_000 })
    .not.toBe(before);
  const after = await lastRebuild.textContent();
  expect(after).toMatch(/마지막 재구축/);
  expect(eventsIn(after)).toBeGreaterThanOrEqual(eventsIn(before));
  await expect(catalogue).toContainText('운영 중');

  // The public catalogue still reads from the (rebuilt) tables.
  await page.goto('/clinics/gangnam-glow');
  await expect(page.getByRole('row', { name: /보톡스 \(이마\)/ })).toContainText('₩99,000');
});

test('only admins reach the projections page', async ({ page }) => {
  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  await page.goto('/admin/projections');
  await expectForbidden(page);
  const response = await page.request.get('/api/admin/projections');
  expect(response.status()).toBe(403);
});
