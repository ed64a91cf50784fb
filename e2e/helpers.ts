import { expect, type Page } from '@playwright/test';
import { demoPassword } from '../lib/db/demo-data';

export { demoPassword };

export async function signIn(page: Page, email: string, password = demoPassword) {
  await page.goto('/signin');
  await page.getByLabel('이메일').fill(email);
  await page.getByLabel('비밀번호').fill(password);
  await page.getByRole('button', { name: '로그인', exact: true }).click();
}

export async function expectForbidden(page: Page) {
  await expect(page.getByRole('heading', { name: '접근 권한 없음' })).toBeVisible();
}
