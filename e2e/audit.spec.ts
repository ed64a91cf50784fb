import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('an auditor filters the audit trail and follows a conversation', async ({ page }) => {
  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  const trail = page.getByRole('table', { name: '변경 이력' });
  await expect(trail.getByRole('row', { name: /ClinicRegistered/ }).first()).toBeVisible();

  const filters = page.getByRole('form', { name: '변경 이력 필터' });
  await filters.getByLabel('클리닉 ID').fill('sinsa-clear');
  await filters.getByLabel('이벤트 유형').fill('TreatmentListed');
  await filters.getByRole('button', { name: '필터 적용' }).click();
  await expect(page).toHaveURL(/clinic=sinsa-clear/);
  // Sinsa Clear lists three treatments; each listing is one recorded change by the seed.
  await expect(trail.getByRole('row')).toHaveCount(1 + 3);
  await expect(trail).toContainText('system:seed');
  await expect(trail).toContainText('clinic-sinsa-clear@1');

  await trail.getByRole('link', { name: '이 흐름 따라가기' }).first().click();
  await expect(page).toHaveURL(/correlation=/);
  await expect(trail.getByRole('row')).toHaveCount(1 + 1);
});

test('invalid audit filters are reported, not silently applied', async ({ page }) => {
  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  await page.goto('/audit?from=not-a-date');
  await expect(page.getByTestId('filter-error')).toHaveText('일부 필터가 올바르지 않아 무시했습니다.');
});
