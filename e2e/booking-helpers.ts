/**
 * Shared by e2e/booking.spec.ts and e2e/checkout.spec.ts: treatments picked by what the demo data
 * says (booking mode, allowed kinds, deposit), free future slots on days no other test uses, the
 * booking flow through the page, and a direct look at the run's database (what was appended, what
 * the gateway charged) for the checks a page cannot show.
 */
import { expect, type Page } from '@playwright/test';
import postgres from 'postgres';
import { demoClinics, demoPassword } from '../lib/db/demo-data';
import { atLocal, clinic as clinicDomain, clinicDay, plusMinutes } from '../lib/domain';

type DemoClinic = (typeof demoClinics)[number];
type DemoTreatment = DemoClinic['treatments'][number];
type Kind = 'consult-first' | 'pay-and-book';

export interface Pick {
  clinic: DemoClinic;
  treatment: DemoTreatment;
}

/** The kinds a demo treatment allows (both, for data that does not declare them). */
export function kindsOf(t: DemoTreatment): Kind[] {
  const declared = (t as { bookingKinds?: readonly string[]; allowedKinds?: readonly string[] }).bookingKinds ?? (t as { allowedKinds?: readonly string[] }).allowedKinds;
  return (['consult-first', 'pay-and-book'] as const).filter((k) => !declared || declared.includes(k));
}

const modeOf = (c: DemoClinic, t: DemoTreatment) => ((t as { bookingMode?: string }).bookingMode ?? (c as { bookingMode?: string }).bookingMode) as string;

/** The first demo treatment that fits (several when `nth`), or a failing test saying what the data lacks. */
export function pickTreatment(want: { kind: Kind; mode?: 'instant' | 'clinic-confirm'; only?: boolean; nth?: number }): Pick {
  const found: Pick[] = [];
  for (const clinic of demoClinics) {
    for (const treatment of clinic.treatments) {
      if (!kindsOf(treatment).includes(want.kind)) continue;
      if (want.only && kindsOf(treatment).length !== 1) continue;
      if (want.mode && modeOf(clinic, treatment) !== want.mode) continue;
      if (want.kind === 'pay-and-book' && treatment.depositKrw <= 0) continue;
      found.push({ clinic, treatment });
    }
  }
  const pick = found[want.nth ?? 0];
  if (!pick) throw new Error(`the demo data has no treatment for ${JSON.stringify(want)}`);
  return pick;
}

/**
 * A start at `time` (or the day's first opening) on the first day the clinic opens at least
 * `offsetDays` ahead (Seoul): each test takes its own offset, so tests never share a slot.
 */
export function slotOn(clinic: DemoClinic, offsetDays: number, slotIndex = 0): { day: string; startsAt: string; time: string } {
  const hours = clinic.openingHours as unknown as clinicDomain.OpeningHours;
  for (let d = offsetDays; d < offsetDays + 14; d++) {
    const day = clinicDay(plusMinutes(new Date(), d * 24 * 60));
    const intervals = clinicDomain.intervalsOn(hours, day);
    if (intervals.length === 0) continue;
    const starts = clinicDomain.slotStartsOn({ openingHours: hours, slotLengthMinutes: clinic.slotMinutes, slotCapacity: clinic.slotCapacity, policy: { minimumNoticeHours: 0 } }, day);
    const time = starts[slotIndex]!;
    return { day, time, startsAt: atLocal(day, time).toISOString() };
  }
  throw new Error(`${clinic.id} opens on no day after ${offsetDays}`);
}

export function bookingPath(clinicId: string, q: { treatment?: string; startsAt?: string; day?: string; kind?: string }): string {
  const search = new URLSearchParams(Object.entries(q).filter(([, v]) => v) as Array<[string, string]>);
  return `/clinics/${clinicId}/book?${search}`;
}

/** Signs in on whatever sign-in page the browser is on (keeps its callbackUrl). */
export async function signInHere(page: Page, email: string) {
  await page.getByLabel('이메일').fill(email);
  await page.getByLabel('비밀번호').fill(demoPassword);
  await page.getByRole('button', { name: '로그인', exact: true }).click();
}

export async function signInAs(page: Page, email: string) {
  await page.goto('/signin');
  await signInHere(page, email);
  await expect(page).not.toHaveURL(/\/signin/);
}

/** Opens the review step of a slot (as the clinic page's slot links do) and returns the command id the form carries. */
export async function openReview(page: Page, pick: Pick, startsAt: string, kind: Kind): Promise<string> {
  await page.goto(bookingPath(pick.clinic.id, { treatment: pick.treatment.id, startsAt, kind }));
  await expect(page.getByTestId('review')).toBeVisible();
  return (await page.locator('input[name="commandId"]').inputValue()).trim();
}

export const submitBooking = (page: Page) => page.getByTestId('book-form').getByRole('button').click();

/** The run's own database (npm run test:e2e prepares it and passes E2E_DATABASE_URL). */
export function database() {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error('E2E_DATABASE_URL is not set: run through npm run test:e2e');
  return postgres(url, { max: 2, onnotice: () => {} });
}

export async function eventCount(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select count(*)::text as n from es_events`;
  return Number(row!.n);
}

export const reservationIdFrom = (url: string) => /\/(?:me\/reservations|checkout\/reservation)\/([^/?#]+)/.exec(url)?.[1] ?? null;
