import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { bookReservation, commandMetadata, listTreatment, registerClinic, SYSTEM_ACTOR } from '../lib/commands';
import { connect } from '../lib/db/client';
import { atLocal, clinicDay, plusMinutes, timeOfMinutes } from '../lib/domain';
import { createEventStore } from '../lib/eventstore';
import { commandDepsFor } from '../lib/runtime/command-deps';

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
  await expect(page.getByTestId('policy-summary')).toHaveText('24시간 전까지 무료 취소, 이후 취소·변경 수수료 ₩30,000, 노쇼 시 예약금 환불 불가.');

  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Gangnam Glow Dermatology' })).toBeVisible();
  await expect(page.getByRole('columnheader', { name: 'Price (VAT incl.)' })).toBeVisible();
  await expect(page.getByTestId('policy-summary')).toHaveText('Free cancellation until 24 h before; after that ₩30,000; a no-show forfeits the deposit.');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');

  await page.getByRole('button', { name: '한국어' }).click();
  await expect(page.getByRole('heading', { level: 1, name: '강남 글로우 피부과' })).toBeVisible();
});

test('opening hours show the lunch break', async ({ page }) => {
  await page.goto('/clinics/apgujeong-line');
  await expect(page.getByText('09:30–13:00, 14:00–18:30').first()).toBeVisible();
});

test('the clinic filters live in the URL: category, district, and a search in Korean or English', async ({ page }) => {
  await page.goto('/');
  const cards = page.getByTestId('clinic-card');
  const filters = page.getByRole('search', { name: '클리닉 검색 조건' });
  // Other specs may add clinics of their own to the run's database: the demo ones are checked by name.
  const demo = ['강남 글로우 피부과', '압구정 라인 성형외과', '신사 클리어 의원', '홍대 블룸 피부과'];
  for (const name of demo) await expect(cards.filter({ hasText: name })).toHaveCount(1);

  await filters.getByLabel('시술 분류').selectOption({ label: '레이저' });
  await filters.getByRole('button', { name: '검색' }).click();
  await expect(page).toHaveURL(/[?&]category=laser/);
  await expect(cards.filter({ hasText: '압구정 라인 성형외과' })).toHaveCount(0);
  await expect(cards.filter({ hasText: '신사 클리어 의원' })).toHaveCount(0);
  await expect(cards.filter({ hasText: '강남 글로우 피부과' }).getByTestId('cheapest')).toContainText('레이저 토닝 · ₩59,000');
  await expect(cards.filter({ hasText: '홍대 블룸 피부과' })).toHaveCount(1);

  // The URL alone gives the same result (a shared link, or no JavaScript).
  await page.goto('/?district=' + encodeURIComponent('서울 마포구 · Mapo-gu, Seoul'));
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toContainText('홍대 블룸 피부과');
  await expect(filters.getByLabel('지역')).toHaveValue('서울 마포구 · Mapo-gu, Seoul');

  await page.goto('/');
  await filters.getByLabel('이름으로 검색').fill('압구정');
  await filters.getByLabel('이름으로 검색').press('Enter');
  await expect(page).toHaveURL(/[?&]q=%EC%95%95%EA%B5%AC%EC%A0%95/);
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toContainText('압구정 라인 성형외과');

  await filters.getByLabel('이름으로 검색').fill('sinsa CLEAR');
  await filters.getByRole('button', { name: '검색' }).click();
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toContainText('신사 클리어 의원');

  await filters.getByLabel('이름으로 검색').fill('없는클리닉');
  await filters.getByRole('button', { name: '검색' }).click();
  await expect(cards).toHaveCount(0);
  await expect(page.getByText('조건에 맞는 클리닉이 없습니다. 검색어나 필터를 바꿔 보세요.')).toBeVisible();
  await page.getByRole('link', { name: '초기화' }).click();
  await expect(page).toHaveURL('/');
  // Every demo clinic shows its next free slot, linking to that day on its page.
  for (const name of demo) {
    await expect(cards.filter({ hasText: name }).getByTestId('next-free').getByRole('link')).toHaveAttribute('href', /^\/clinics\/[a-z-]+\?treatment=[a-z0-9-]+&day=\d{4}-\d{2}-\d{2}#availability$/);
  }
});

test.describe('availability', () => {
  // A clinic of this test's own, open around the clock with one seat per slot and 2 hours' notice,
  // so a full slot and the notice rule are visible whenever the suite runs.
  const clinicId = `e2e-cat-${randomBytes(3).toString('hex')}`;
  const treatmentId = 'tx-peel';
  const inTwoDays = clinicDay(plusMinutes(new Date(), 2 * 24 * 60));

  test.beforeAll(async () => {
    const url = process.env.E2E_DATABASE_URL;
    const hmacKey = process.env.EVENT_HMAC_KEY;
    const masterKey = process.env.PERSONAL_DATA_MASTER_KEY;
    if (!url || !hmacKey || !masterKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
    const database = connect(url, { max: 2 });
    const store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-catalogue' });
    try {
      const deps = commandDepsFor(database.sql, store, masterKey);
      const setup = (step: string) => commandMetadata({ actor: SYSTEM_ACTOR, clinicId, commandId: `${clinicId}/${step}` });
      await registerClinic(
        deps,
        {
          clinicId,
          name: '카탈로그 테스트 의원',
          openingHours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, opens: '00:00', closes: '24:00' })),
          slotLengthMinutes: 30,
          slotCapacity: 1,
          policy: { freeCancellationHours: 24, lateCancellationFeeKrw: 10_000, noShowForfeitsDeposit: true, minimumNoticeHours: 2 },
          profile: { nameEn: 'Catalogue Test Clinic', district: '서울 종로구 · Jongno-gu, Seoul', address: '서울 종로구 1', phone: '02-555-0101' },
        },
        setup('register'),
      );
      await listTreatment(deps, { clinicId, treatmentId, name: '아쿠아 필링', nameEn: 'Aqua peel', category: 'skin care', priceKrw: 55_000, durationMinutes: 30, depositKrw: 10_000, bookingMode: 'instant', bookingKinds: ['consult-first', 'pay-and-book'], consultDurationMinutes: 30 }, setup('treatment'));
      const [patient] = await database.sql<{ id: string }[]>`select id from users where email = 'jiwoo@yeyak.example'`;
      await bookReservation(
        deps,
        { reservationId: `rsv-${clinicId}`, clinicId, patientId: patient!.id, treatmentId, kind: 'consult-first', startsAt: atLocal(inTwoDays, '11:00').toISOString() },
        commandMetadata({ actor: { id: patient!.id, role: 'patient' }, clinicId, ip: '127.0.0.1', userAgent: 'e2e set-up' }),
      );
    } finally {
      await store.close();
      await database.close();
    }
  });

  test('a full slot is shown disabled; a free one links to the booking page with the treatment and the instant', async ({ page }) => {
    // The worker projects the booking; the page's cache is dropped when it commits.
    await expect(async () => {
      await page.goto(`/clinics/${clinicId}?treatment=${treatmentId}&day=${inTwoDays}`);
      await expect(page.getByRole('button', { name: '11:00 마감' })).toBeDisabled({ timeout: 500 });
    }).toPass({ timeout: 15_000 });
    const slots = page.getByTestId('slots');
    await expect(slots.getByRole('link', { name: /^11:00/ })).toHaveCount(0);
    const next = slots.getByRole('link', { name: '11:30 예약하기, 1자리 남음' });
    await expect(next).toHaveAttribute('href', `/clinics/${clinicId}/book?treatment=${treatmentId}&startsAt=${encodeURIComponent(atLocal(inTwoDays, '11:30').toISOString())}`);
    // The treatment and day pickers are a plain GET form.
    const picker = page.getByRole('form', { name: '시간 조회' });
    await expect(picker.getByLabel('날짜')).toHaveValue(inTwoDays);
    await expect(picker.getByLabel('시술')).toHaveValue(treatmentId);
  });

  test('past slots and slots inside the minimum notice are not offered; days past the horizon offer nothing', async ({ page }) => {
    const now = new Date();
    const today = clinicDay(now);
    await page.goto(`/clinics/${clinicId}?treatment=${treatmentId}&day=${today}`);
    const labels = await page.getByTestId('slots').getByRole('link').evaluateAll((links) => links.map((a) => a.getAttribute('aria-label') ?? ''));
    const earliest = plusMinutes(now, 2 * 60);
    for (const label of labels) {
      const time = /^(\d\d:\d\d)/.exec(label)![1]!;
      expect(atLocal(today, time).getTime(), label).toBeGreaterThanOrEqual(earliest.getTime());
    }
    // Exactly the grid's starts at or after now + 2 h (one fewer if a half hour passed since the page rendered).
    const expected = Array.from({ length: 48 }, (_, i) => atLocal(today, timeOfMinutes(i * 30))).filter((t) => t.getTime() >= earliest.getTime()).length;
    expect([expected, expected - 1]).toContain(labels.length);
    if (expected === 0) await expect(page.getByTestId('slots')).toContainText('이날은 예약 가능한 시간이 없습니다');

    const beyond = clinicDay(plusMinutes(now, 120 * 24 * 60));
    await page.goto(`/clinics/${clinicId}?treatment=${treatmentId}&day=${beyond}`);
    await expect(page.getByTestId('slots')).toContainText('오늘부터 90일 안의 날짜만 예약할 수 있습니다');
    await expect(page.getByTestId('slots').getByRole('link')).toHaveCount(0);
  });
});
