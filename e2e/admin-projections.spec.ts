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

  await catalogue.getByRole('button', { name: 'catalogue 재구축' }).click();
  await expect(page.getByText('재구축을 요청했습니다.', { exact: false })).toBeVisible();
  // The worker picks the request up, replays the log into fresh tables and switches them in.
  await expect(catalogue).toContainText('마지막 재구축', { timeout: 20_000 });
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
