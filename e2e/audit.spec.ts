import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('an auditor filters the audit trail and follows a conversation', async ({ page }) => {
  await signIn(page, 'auditor@yeyak.example');
  await expect(page).toHaveURL('/audit');
  const trail = page.getByRole('table', { name: '변경 이력' });
  await expect(trail.getByRole('row', { name: /ClinicRegistered/ }).first()).toBeVisible();

  const filters = page.getByRole('form', { name: '변경 이력 필터' });
  await filters.getByLabel('클리닉 ID').fill('sinsa-clear');
  await filters.getByLabel('이벤트 유형').selectOption('TreatmentListed');
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
  const trail = page.getByRole('table', { name: '변경 이력' });
  const filters = page.getByRole('form', { name: '변경 이력 필터' });

  // Valid filters (Sinsa Clear's three listings) next to an invalid date: none of them is applied.
  await page.goto('/audit?clinic=sinsa-clear&type=TreatmentListed&from=not-a-date');
  await expect(page.getByTestId('filter-error')).toHaveText('일부 필터가 올바르지 않아 무시했습니다.');
  await expect(filters.getByLabel('클리닉 ID')).toHaveValue('');
  await expect(filters.getByLabel('이벤트 유형')).toHaveValue('');
  await expect(filters.getByLabel('시작일')).toHaveValue('');
  // The whole trail, not the three rows the filters would give: other clinics and other event types too.
  // (Counts beyond the header row; the newest page, whatever other tests appended meanwhile.)
  await expect(trail.getByRole('row').nth(1 + 3)).toBeVisible();
  expect(await trail.getByRole('row').filter({ hasNotText: 'TreatmentListed' }).count()).toBeGreaterThan(1);
  expect(await trail.getByRole('row').filter({ hasNotText: 'clinic-sinsa-clear' }).count()).toBeGreaterThan(1);

  // A role that does not exist is not looked for either (that would find nothing).
  await page.goto('/audit?role=nobody');
  await expect(page.getByTestId('filter-error')).toBeVisible();
  await expect(filters.getByLabel('역할')).toHaveValue('');
  await expect(page.getByText('조건에 맞는 변경 기록이 없습니다.')).toHaveCount(0);
  await expect(trail.getByRole('row').nth(1)).toBeVisible();
});
