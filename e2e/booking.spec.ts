import { expect, test } from '@playwright/test';
import { expectForbidden } from './helpers';
import { bookingPath, database, eventCount, openReview, pickTreatment, reservationIdFrom, signInAs, signInHere, slotOn, submitBooking } from './booking-helpers';

// Each test books on its own day (offsets 20+ days ahead), so no test takes another's seats.

test('a signed-out visitor signs in and comes back to the same slot, then books a consultation step by step', async ({ page }) => {
  const pick = pickTreatment({ kind: 'consult-first' });
  const slot = slotOn(pick.clinic, 20, 1);
  // Straight from the clinic page's slot link, signed out.
  await page.goto(bookingPath(pick.clinic.id, { treatment: pick.treatment.id, startsAt: slot.startsAt }));
  await expect(page).toHaveURL(/\/signin\?callbackUrl=/);
  await signInHere(page, 'minji@yeyak.example');
  await expect(page).toHaveURL(bookingPath(pick.clinic.id, { treatment: pick.treatment.id, startsAt: slot.startsAt }));

  // Steps 1–3 are chosen; change the time through the slot step, then pick the kind.
  await expect(page.getByTestId('step-1')).toContainText(pick.treatment.name);
  await page.getByTestId('step-3').getByRole('link', { name: '변경' }).click();
  await page.getByTestId(`slot-${slot.time}`).click();
  await expect(page.getByTestId('step-4')).toBeVisible();
  const kindLink = page.getByTestId('kind-consult-first');
  if (await kindLink.count()) await kindLink.click();

  const review = page.getByTestId('review');
  await expect(review).toContainText(pick.treatment.name);
  await expect(review).toContainText('상담 먼저');
  await expect(page.getByTestId('review-deposit')).toHaveText('₩0');
  // The policy that will be frozen, in plain words.
  await expect(page.getByTestId('review-policy')).toContainText(`${pick.clinic.policy.freeCancellationHours}시간 전까지 무료`);

  // A note may hold health details: it is stored encrypted, never in plaintext in the event log.
  const note = `왼쪽 눈가 필러 알레르기 ${Date.now()}`;
  await page.getByLabel('병원에 전달할 내용 (선택)').fill(note);
  await submitBooking(page);
  await expect(page).toHaveURL(/\/me\/reservations\/rsv-/);
  const reservationId = reservationIdFrom(page.url())!;
  const sql = database();
  try {
    const [stored] = await sql<{ n: string }[]>`select count(*)::text as n from es_events where stream_id = ${`reservation-${reservationId}`} and type = 'ReservationRequested'`;
    expect(stored!.n).toBe('1');
    const [plain] = await sql<{ n: string }[]>`select count(*)::text as n from es_events where data::text like ${`%${note}%`} or metadata::text like ${`%${note}%`}`;
    expect(plain!.n).toBe('0');
  } finally {
    await sql.end();
  }

  // A resubmit of the same form (back, submit again) lands on the same reservation.
  await page.goBack();
  await expect(page.getByTestId('review')).toBeVisible();
  await submitBooking(page);
  await expect(page).toHaveURL(`/me/reservations/${reservationId}`);
  await expect(page.getByRole('main')).toContainText(pick.treatment.name);
});

test('the steps offer only the kinds a treatment allows and say what each costs', async ({ page }) => {
  await signInAs(page, 'seojun@yeyak.example');
  // A treatment that allows both kinds: both offered, each with what it costs now.
  const both = pickTreatment({ kind: 'pay-and-book' });
  await page.goto(bookingPath(both.clinic.id, {}));
  await page.getByTestId(`treatment-${both.treatment.id}`).click();
  // Day: a chip a few days ahead (today's times may be gone); closed days are not links.
  await page.getByTestId(`day-${slotOn(both.clinic, 4).day}`).click();
  await expect(page.getByTestId('step-3')).toBeVisible();
  await page.getByTestId('step-3').getByRole('link').first().click();
  await expect(page.getByTestId('step-4')).toBeVisible();
  await expect(page.getByTestId('step-4').getByRole('link')).toHaveCount(both.treatment.bookingKinds.length);
  if (both.treatment.bookingKinds.length > 1) await page.getByTestId('kind-pay-and-book').click();
  await expect(page.getByTestId('review-deposit')).toHaveText(`₩${both.treatment.depositKrw.toLocaleString('en-US')}`);

  // A treatment with one kind only: no choice is offered, and a URL asking for the other kind is not honoured.
  const only = pickTreatment({ kind: 'pay-and-book', only: true });
  const slot = slotOn(only.clinic, 5, 1);
  await page.goto(bookingPath(only.clinic.id, { treatment: only.treatment.id, startsAt: slot.startsAt, kind: 'consult-first' }));
  await expect(page.getByTestId('step-4')).toContainText('이 시술은 이 방식으로만 예약할 수 있습니다.');
  await expect(page.getByTestId('kind-consult-first')).toHaveCount(0);
  await expect(page.getByTestId('review')).toContainText('결제하고 예약');
  await expect(page.getByTestId('review-deposit')).toHaveText(`₩${only.treatment.depositKrw.toLocaleString('en-US')}`);
});

test('a full slot cannot be chosen, and the last seat raced by two patients goes to one: the other is told the slot is full', async ({ browser }) => {
  const pick = pickTreatment({ kind: 'consult-first' });
  const slot = slotOn(pick.clinic, 22, 2);
  const patients = ['minji@yeyak.example', 'seojun@yeyak.example', 'jiwoo@yeyak.example'];
  const contexts = await Promise.all(patients.map(() => browser.newContext()));
  const pages = await Promise.all(contexts.map((c) => c.newPage()));
  try {
    await Promise.all(pages.map((p, i) => signInAs(p, patients[i]!)));
    // Fill the slot up to its last seat (capacity − 1 bookings; a patient may hold several seats).
    for (let seat = 0; seat < pick.clinic.slotCapacity - 1; seat++) {
      const p = pages[2]!;
      await openReview(p, pick, slot.startsAt, 'consult-first');
      await submitBooking(p);
      await expect(p).toHaveURL(/\/me\/reservations\//);
    }
    // Both see the review of the last seat, then submit at once.
    const [a, b] = [pages[0]!, pages[1]!];
    await Promise.all([openReview(a, pick, slot.startsAt, 'consult-first'), openReview(b, pick, slot.startsAt, 'consult-first')]);
    await Promise.all([submitBooking(a), submitBooking(b)]);
    const outcome = async (p: typeof a) => {
      await p.waitForFunction(() => location.pathname.startsWith('/me/reservations/') || !!document.querySelector('[data-testid="form-error"]'));
      return /\/me\/reservations\//.test(p.url()) ? 'booked' : 'refused';
    };
    const results = await Promise.all([outcome(a), outcome(b)]);
    expect([...results].sort()).toEqual(['booked', 'refused']);
    const loser = results[0] === 'refused' ? a : b;
    await expect(loser.getByTestId('form-error')).toContainText('예약이 마감되었습니다');

    // Now full: the slot step shows it disabled, and its URL does not offer the review.
    await loser.getByRole('link', { name: '다른 시간 선택' }).click();
    await expect(loser.getByTestId(`slot-${slot.time}`)).toBeDisabled();
    await loser.goto(bookingPath(pick.clinic.id, { treatment: pick.treatment.id, startsAt: slot.startsAt, kind: 'consult-first' }));
    await expect(loser.getByTestId('slot-problem')).toContainText('예약이 마감되었습니다');
    await expect(loser.getByTestId('review')).toHaveCount(0);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});

test("a patient replaying another patient's booking command gets 403 and nothing is appended", async ({ browser }) => {
  const sql = database();
  const pick = pickTreatment({ kind: 'consult-first' });
  const slot = slotOn(pick.clinic, 24, 3);
  const [ctxA, ctxB] = await Promise.all([browser.newContext(), browser.newContext()]);
  try {
    const [a, b] = await Promise.all([ctxA.newPage(), ctxB.newPage()]);
    await signInAs(a, 'jiwoo@yeyak.example');
    const commandId = await openReview(a, pick, slot.startsAt, 'consult-first');
    await submitBooking(a);
    await expect(a).toHaveURL(/\/me\/reservations\//);

    await signInAs(b, 'seojun@yeyak.example');
    await openReview(b, pick, slot.startsAt, 'consult-first');
    const before = await eventCount(sql);
    // The form B posts carries A's command id (and B's session).
    await b.locator('input[name="commandId"]').evaluate((el, id) => ((el as HTMLInputElement).value = id), commandId);
    await submitBooking(b);
    await expectForbidden(b);
    expect(await eventCount(sql)).toBe(before);
  } finally {
    await Promise.all([ctxA.close(), ctxB.close()]);
    await sql.end();
  }
});
