import { expect, test } from '@playwright/test';

test('visitors browse clinics with VAT-inclusive KRW prices, in Korean or English', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: '클리닉 찾기' })).toBeVisible();
  await page.getByRole('link', { name: '강남 글로우 피부과' }).click();
  await expect(page).toHaveURL('/clinics/gangnam-glow');
  const botox = page.getByRole('row', { name: /보톡스 \(이마\)/ });
  await expect(botox).toContainText('₩99,000');
  await expect(page.getByRole('columnheader', { name: '가격 (부가세 포함)' })).toBeVisible();
  await expect(page.getByTestId('cancellation-policy')).toContainText('예약 24시간 전까지 무료 취소.');
  await expect(page.getByTestId('cancellation-policy')).toContainText('₩30,000');

  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Gangnam Glow Dermatology' })).toBeVisible();
  await expect(page.getByRole('columnheader', { name: 'Price (VAT incl.)' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');

  await page.getByRole('button', { name: '한국어' }).click();
  await expect(page.getByRole('heading', { level: 1, name: '강남 글로우 피부과' })).toBeVisible();
});

test('opening hours show the lunch break', async ({ page }) => {
  await page.goto('/clinics/apgujeong-line');
  await expect(page.getByText('09:30–13:00, 14:00–18:30').first()).toBeVisible();
});
