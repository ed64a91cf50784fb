/**
 * One staff navigation: Today, the board, payments and statistics all show the same tabs (오늘,
 * 진료 보드, 수납, 통계) in the same order, with the page's own tab marked current, and the day the
 * day-bar pages show is carried to the other day-bar pages.
 */
import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

const SINSA = 'sinsa-clear';
const TABS = ['오늘', '진료 보드', '수납', '통계'];

test('every staff page shows the same four tabs, its own marked current', async ({ page }) => {
  await signIn(page, 'sinsa.staff@yeyak.example');
  await page.waitForURL(/\/staff\//);
  const pages: Array<[string, string]> = [
    [`/staff/${SINSA}`, '오늘'],
    [`/staff/${SINSA}/board`, '진료 보드'],
    [`/staff/${SINSA}/payments`, '수납'],
    [`/staff/${SINSA}/stats`, '통계'],
  ];
  for (const [path, current] of pages) {
    await page.goto(path);
    const nav = page.getByRole('navigation', { name: '직원 메뉴' });
    await expect(nav.getByRole('link')).toHaveText(TABS);
    await expect(nav.locator('[aria-current="page"]')).toHaveText(current);
  }
  // A day opened on the payments page is the day the other day pages' tabs open.
  await page.goto(`/staff/${SINSA}/payments?day=2025-03-03`);
  const nav = page.getByRole('navigation', { name: '직원 메뉴' });
  await expect(nav.getByRole('link', { name: '오늘' })).toHaveAttribute('href', `/staff/${SINSA}?day=2025-03-03`);
  await expect(nav.getByRole('link', { name: '진료 보드' })).toHaveAttribute('href', `/staff/${SINSA}/board?day=2025-03-03`);
});
