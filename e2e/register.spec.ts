import { expect, test, type Page } from '@playwright/test';
import postgres from 'postgres';
import { signIn } from './helpers';

async function fillValidForm(page: Page, values: { name?: string; email: string; birthDate?: string }) {
  await page.getByLabel('이름').fill(values.name ?? '정하은');
  await page.getByLabel('이메일').fill(values.email);
  await page.getByLabel('비밀번호', { exact: true }).fill('a-good-password-42');
  await page.getByLabel('비밀번호 확인').fill('a-good-password-42');
  await page.getByLabel('휴대폰 번호').fill('010-9876-5432');
  await page.getByLabel('생년월일').fill(values.birthDate ?? '1996-04-18');
  await page.getByLabel('예약 및 진료를 위한 개인정보 수집·이용에 동의합니다.').check();
}

test('registration shows each validation error next to its field and keeps what was typed', async ({ page }) => {
  await page.goto('/register');
  await page.getByLabel('이름').fill('김');
  await page.getByLabel('이메일').fill('not-an-email');
  await page.getByLabel('비밀번호', { exact: true }).fill('short1');
  await page.getByLabel('비밀번호 확인').fill('different');
  await page.getByLabel('휴대폰 번호').fill('02-123');
  await page.getByRole('button', { name: '가입하기' }).click();

  await expect(page.getByTestId('form-error')).toHaveText('아래 표시된 항목을 확인해 주세요.');
  await expect(page.getByTestId('error-name')).toHaveText('이름을 2자 이상 입력하세요.');
  await expect(page.getByTestId('error-email')).toHaveText('올바른 이메일 주소를 입력하세요.');
  await expect(page.getByTestId('error-password')).toHaveText('비밀번호는 10자 이상이어야 합니다.');
  await expect(page.getByTestId('error-confirmPassword')).toHaveText('비밀번호가 일치하지 않습니다.');
  await expect(page.getByTestId('error-phone')).toHaveText('010-1234-5678 형식의 휴대폰 번호를 입력하세요.');
  await expect(page.getByTestId('error-birthDate')).toHaveText('생년월일을 입력하세요.');
  await expect(page.getByTestId('error-consent')).toHaveText('가입하려면 개인정보 수집·이용에 동의해야 합니다.');

  // Errors are tied to their inputs for screen readers, and the typed values survive.
  const email = page.getByLabel('이메일');
  await expect(email).toHaveAttribute('aria-invalid', 'true');
  await expect(email).toHaveAttribute('aria-describedby', 'field-email-error');
  await expect(email).toHaveValue('not-an-email');
  await expect(page.getByLabel('이름')).toHaveValue('김');
  await expect(page.getByLabel('휴대폰 번호')).toHaveValue('02-123');
});

test('a child under 14 cannot register without a guardian', async ({ page }) => {
  await page.goto('/register');
  await fillValidForm(page, { email: 'child@yeyak.example', birthDate: '2020-05-05' });
  await page.getByRole('button', { name: '가입하기' }).click();
  await expect(page.getByTestId('error-birthDate')).toHaveText('만 14세 미만은 법정대리인이 대신 가입해야 합니다.');
});

/** The newest unsent e-mail to `to` in the outbox (no mail server here: the outbox is what would be sent). */
async function lastEmailTo(to: string): Promise<{ template: string; payload: Record<string, string> } | undefined> {
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ template: string; payload: Record<string, string> }[]>`
      select template, payload from email_outbox where lower(to_email) = ${to.toLowerCase()} and sent_at is null order by id desc limit 1`;
    return row;
  } finally {
    await sql.end();
  }
}

test('an e-mail that already has an account gets the same answer as a new one; only the mailbox learns which', async ({ page }) => {
  await page.goto('/register');
  await fillValidForm(page, { name: '김민지', email: 'MINJI@yeyak.example' });
  await page.getByRole('button', { name: '가입하기' }).click();
  await expect(page).toHaveURL('/register/sent');
  const taken = await page.getByTestId('registration-sent').textContent();
  expect(await lastEmailTo('minji@yeyak.example')).toMatchObject({ template: 'already-registered' });

  await page.goto('/register');
  await fillValidForm(page, { name: '한지민', email: 'jimin.new@yeyak.example' });
  await page.getByRole('button', { name: '가입하기' }).click();
  await expect(page).toHaveURL('/register/sent');
  expect(await page.getByTestId('registration-sent').textContent()).toBe(taken);
});

test('a new patient registers, confirms the e-mail, signs in and lands on their reservations', async ({ page }) => {
  await page.goto('/register');
  await fillValidForm(page, { name: '정하은', email: 'haeun@yeyak.example' });
  await page.getByRole('button', { name: '가입하기' }).click();
  await expect(page).toHaveURL('/register/sent');
  await expect(page.getByRole('heading', { name: '메일을 확인하세요' })).toBeVisible();

  // Not yet confirmed: the right password is not enough.
  await signIn(page, 'haeun@yeyak.example', 'a-good-password-42');
  await expect(page.getByTestId('form-error')).toContainText('이메일 주소 확인이 아직 끝나지 않았습니다');

  const mail = await lastEmailTo('haeun@yeyak.example');
  expect(mail?.template).toBe('verify-email');
  const link = new URL(mail!.payload.verifyUrl!);
  await page.goto(`${link.pathname}${link.search}`);
  await expect(page).toHaveURL('/signin?verified=1');
  await expect(page.getByTestId('verified')).toBeVisible();
  // The link works once.
  await page.goto(`${link.pathname}${link.search}`);
  await expect(page.getByTestId('verify-failed')).toBeVisible();

  await signIn(page, 'haeun@yeyak.example', 'a-good-password-42');
  await expect(page).toHaveURL('/me');
  await expect(page.getByText('정하은님, 환영합니다.')).toBeVisible();
});
