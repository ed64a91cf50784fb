/**
 * The authorisation matrix (issue 13, issue 14 behaviour 1): every page, server action, route handler
 * and query, and which roles may use it. ONE table: lib/auth/access-matrix.test.ts calls every row for
 * every role with a real Auth.js session (no proxy in front) and checks that only the allowed pairs get
 * through, everyone else is sent to sign-in (signed out; a route answers 401) or gets 403 — and that a
 * refused call appends nothing to the event store. The same test fails when a page (app/**\/page.tsx),
 * a route handler (each HTTP method of app/**\/route.ts), an export of a 'use server' file or a
 * function exported by lib/queries exists without a row here.
 *
 * Test-only: imported by the test alone (the app never reads it; the app's checks are requireUser and
 * the command layer's authorize). The modules are imported inside each call, after the test has set
 * its environment.
 */
import type { Outcome } from '../testing/next-request';

/**
 * The callers: "otherPatient" and "otherStaff" own nothing the fixtures point at (another clinic's staff);
 * "manager" is staff of the fixtures' clinic with the clinic-manager flag (staff plus running the clinic).
 */
export const everyone = ['anonymous', 'patient', 'otherPatient', 'staff', 'manager', 'otherStaff', 'admin', 'auditor'] as const;
export type Who = (typeof everyone)[number];
const patients: Who[] = ['patient', 'otherPatient'];
/** The clinic's staff, its manager included (whatever plain staff may do, a manager may too). */
const clinicStaff: Who[] = ['staff', 'manager'];

/** Real ids the calls point at: all of them belong to `patient` and to `clinic` (whose staff is `staff`). */
export interface Fixtures {
  clinic: string;
  otherClinic: string;
  /** The patient's consult-first reservation at the clinic, a week or more ahead. */
  reservation: string;
  /** A second reservation of the patient, still requested (for confirm / reject). */
  request: string;
  /** A third one, confirmed (for check-in). */
  confirmed: string;
  /** A visit of the patient at the clinic. */
  visit: string;
  /** The command id of a booking the patient made through the booking form at `bookedSlot` (its reservation id derives from it). */
  bookingCommandId: string;
  bookedSlot: string;
  /** A deposit payment of the patient (requested, payable). */
  payment: string;
  patientEmail: string;
  /** The clinic's plain staff account (not a manager): the admin's manager-flag action points at it. */
  staffAccount: string;
  /** The patient's id (staff's view of a patient at the clinic). */
  patient: string;
  /** A patient with a visit at the other clinic only: not the clinic's, so its staff may not look them up. */
  otherClinicsPatient: string;
  /** A weekday slot start at the clinic, free, a week or more ahead (the allowed patients book it). */
  freeSlot: string;
  /** The clinic day (yyyy-mm-dd, Seoul) of both. */
  day: string;
  /** Another one, for the owner's reschedule. */
  rescheduleSlot: string;
  form(fields: Record<string, string>): FormData;
  /** Fresh UUID (a command id). */
  id(): string;
}

export type Kind = 'page' | 'action' | 'route' | 'query';
/**
 * What a caller gets: `Outcome` for pages, actions and queries ('nothing': a query answered null or
 * empty lists — another patient's reservation); `status N` for route handlers.
 */
export type Seen = Outcome | 'nothing' | `status ${number}`;

export interface EntryRow {
  kind: Kind;
  /** page: its file; action/query: `file#export`; route: `file#METHOD`. */
  id: string;
  /** A second row for the same entry point, with another attack (e.g. a replayed form). */
  variant?: string;
  /** Who gets through ('allowed', or what `allowedAs` says). Everyone else is refused. */
  allow: readonly Who[];
  /** An allowed caller's outcome when it is not plain 'allowed' (a redirect on, a 404 for a missing id). */
  allowedAs?: (who: Who, fx: Fixtures) => Seen | RegExp;
  /**
   * A refused caller's outcome when it is not the default (anonymous → sign-in / status 401, anyone
   * else → forbidden / status 403). Only for owner-scoped reads, which answer 404 rather than reveal
   * that another patient's reservation or payment exists.
   */
  refusedAs?: Partial<Record<Who, Seen>>;
  call: (fx: Fixtures) => Promise<unknown>;
  note?: string;
}

/** An export of lib/queries that is not an entry point (pure, or given the database or a checked user by its caller). */
export interface HelperRow {
  kind: 'query';
  id: string;
  notAnEntryPoint: string;
}

export type Row = EntryRow | HelperRow;
export const isEntry = (row: Row): row is EntryRow => !('notAnEntryPoint' in row);

type Page = (props?: unknown) => Promise<unknown>;
const page = (path: string) => async (props?: unknown) => ((await import(/* @vite-ignore */ path)) as { default: Page }).default(props);
const props = (params: Record<string, string>, search: Record<string, string> = {}) => ({ params: Promise.resolve(params), searchParams: Promise.resolve(search) });
type FormAction = (state: object, form: FormData) => Promise<unknown>;
const action = (file: string, name: string) => async (form: FormData) =>
  ((await import(/* @vite-ignore */ `../../app/actions/${file}`)) as Record<string, FormAction>)[name]!({}, form);
const actions = async (file: string) => (await import(/* @vite-ignore */ `../../app/actions/${file}`)) as Record<string, (form?: FormData) => Promise<unknown>>;
type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
const route = (file: string, method: string) => async (url: string, params: Record<string, string> = {}, init?: RequestInit) => {
  const { NextRequest } = await import('next/server');
  const handler = ((await import(/* @vite-ignore */ `../../app/${file}`)) as Record<string, Handler>)[method]!;
  return handler(new NextRequest(new URL(url, 'http://localhost:3000'), init as never), { params: Promise.resolve(params) });
};
const q = async <T>(file: string) => (await import(/* @vite-ignore */ `../queries/${file}`)) as T;
type Fns = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** A patient-scoped query given the patient's id: another patient gets in, and gets nothing. */
const ownOnly = (who: Who): Seen => (who === 'otherPatient' ? 'nothing' : 'allowed');
const redirectTo = (prefix: string) => new RegExp(`^redirect ${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

/** A clinic day 200 days ahead (Seoul): the manager's closure rows close and reopen it. */
const farDay = async () => {
  const { clinicDay, plusMinutes } = await import('../domain');
  return clinicDay(plusMinutes(new Date(), 200 * 24 * 60));
};

export const accessMatrix: Row[] = [
  // ── Public pages ──────────────────────────────────────────────────────────────────────────────
  { kind: 'page', id: 'app/page.tsx', allow: everyone, call: () => page('../../app/page')({ searchParams: Promise.resolve({}) }) },
  { kind: 'page', id: 'app/clinics/[clinicId]/page.tsx', allow: everyone, call: (fx) => page('../../app/clinics/[clinicId]/page')(props({ clinicId: fx.clinic })) },
  { kind: 'page', id: 'app/forbidden/page.tsx', allow: everyone, allowedAs: () => 'forbidden', note: 'the 403 page itself (the proxy sends refusals here)', call: () => page('../../app/forbidden/page')() },
  { kind: 'page', id: 'app/register/page.tsx', allow: everyone, call: () => page('../../app/register/page')() },
  { kind: 'page', id: 'app/register/sent/page.tsx', allow: everyone, call: () => page('../../app/register/sent/page')() },
  { kind: 'page', id: 'app/signin/page.tsx', allow: everyone, call: () => page('../../app/signin/page')({ searchParams: Promise.resolve({}) }) },

  // ── Patient pages ─────────────────────────────────────────────────────────────────────────────
  { kind: 'page', id: 'app/me/page.tsx', allow: patients, call: () => page('../../app/me/page')({ searchParams: Promise.resolve({}) }) },
  { kind: 'page', id: 'app/me/account/page.tsx', allow: patients, call: () => page('../../app/me/account/page')(props({})) },
  {
    kind: 'page',
    id: 'app/me/reservations/[reservationId]/page.tsx',
    allow: ['patient'],
    refusedAs: { otherPatient: 'not-found' },
    call: (fx) => page('../../app/me/reservations/[reservationId]/page')(props({ reservationId: fx.reservation })),
  },
  {
    kind: 'page',
    id: 'app/me/reservations/[reservationId]/cancel/page.tsx',
    allow: ['patient'],
    refusedAs: { otherPatient: 'not-found' },
    call: (fx) => page('../../app/me/reservations/[reservationId]/cancel/page')(props({ reservationId: fx.reservation })),
  },
  {
    kind: 'page',
    id: 'app/me/reservations/[reservationId]/reschedule/page.tsx',
    allow: ['patient'],
    refusedAs: { otherPatient: 'not-found' },
    call: (fx) => page('../../app/me/reservations/[reservationId]/reschedule/page')(props({ reservationId: fx.reservation })),
  },
  { kind: 'page', id: 'app/clinics/[clinicId]/book/page.tsx', allow: patients, call: (fx) => page('../../app/clinics/[clinicId]/book/page')(props({ clinicId: fx.clinic })) },
  {
    kind: 'page',
    id: 'app/checkout/[paymentId]/page.tsx',
    allow: ['patient'],
        call: (fx) => page('../../app/checkout/[paymentId]/page')(props({ paymentId: fx.payment })),
  },
  {
    kind: 'page',
    id: 'app/checkout/[paymentId]/success/page.tsx',
    allow: ['patient'],
        call: (fx) => page('../../app/checkout/[paymentId]/success/page')(props({ paymentId: fx.payment })),
  },
  {
    kind: 'page',
    id: 'app/checkout/[paymentId]/fail/page.tsx',
    allow: ['patient'],
        call: (fx) => page('../../app/checkout/[paymentId]/fail/page')(props({ paymentId: fx.payment })),
  },
  {
    kind: 'page',
    id: 'app/checkout/reservation/[reservationId]/page.tsx',
    allow: ['patient'],
    allowedAs: () => /^redirect \/(me\/reservations|checkout)\//,
    note: 'waits for the deposit request, then goes on to the checkout or (nothing to pay) the reservation',
        call: (fx) => page('../../app/checkout/reservation/[reservationId]/page')(props({ reservationId: fx.reservation })),
  },

  // ── Staff, admin and audit pages ──────────────────────────────────────────────────────────────
  {
    kind: 'page',
    id: 'app/staff/page.tsx',
    allow: [...clinicStaff, 'otherStaff'],
    allowedAs: (who, fx) => `redirect /staff/${who === 'otherStaff' ? fx.otherClinic : fx.clinic}`,
    call: () => page('../../app/staff/page')(),
  },
  { kind: 'page', id: 'app/staff/[clinicId]/page.tsx', allow: clinicStaff, call: (fx) => page('../../app/staff/[clinicId]/page')(props({ clinicId: fx.clinic })) },
  { kind: 'page', id: 'app/staff/[clinicId]/board/page.tsx', allow: clinicStaff, call: (fx) => page('../../app/staff/[clinicId]/board/page')(props({ clinicId: fx.clinic })) },
  { kind: 'page', id: 'app/staff/[clinicId]/payments/page.tsx', allow: clinicStaff, call: (fx) => page('../../app/staff/[clinicId]/payments/page')(props({ clinicId: fx.clinic })) },
  {
    kind: 'page',
    id: 'app/staff/[clinicId]/patients/[patientId]/page.tsx',
    allow: clinicStaff,
    call: (fx) => page('../../app/staff/[clinicId]/patients/[patientId]/page')(props({ clinicId: fx.clinic, patientId: fx.patient })),
  },
  {
    kind: 'page',
    id: 'app/staff/[clinicId]/patients/[patientId]/page.tsx',
    variant: "another clinic's patient",
    allow: clinicStaff,
    allowedAs: () => 'not-found',
    call: (fx) => page('../../app/staff/[clinicId]/patients/[patientId]/page')(props({ clinicId: fx.clinic, patientId: fx.otherClinicsPatient })),
  },
  { kind: 'page', id: 'app/staff/[clinicId]/stats/page.tsx', allow: clinicStaff, call: (fx) => page('../../app/staff/[clinicId]/stats/page')(props({ clinicId: fx.clinic })) },
  // Running the clinic: its manager only (the clinic's plain staff get 403 too).
  { kind: 'page', id: 'app/staff/[clinicId]/manage/page.tsx', allow: ['manager'], call: (fx) => page('../../app/staff/[clinicId]/manage/page')(props({ clinicId: fx.clinic })) },
  { kind: 'page', id: 'app/staff/[clinicId]/manage/treatments/new/page.tsx', allow: ['manager'], call: (fx) => page('../../app/staff/[clinicId]/manage/treatments/new/page')(props({ clinicId: fx.clinic })) },
  {
    kind: 'page',
    id: 'app/staff/[clinicId]/manage/treatments/[treatmentId]/page.tsx',
    allow: ['manager'],
    call: (fx) => page('../../app/staff/[clinicId]/manage/treatments/[treatmentId]/page')(props({ clinicId: fx.clinic, treatmentId: 'tx-botox' })),
  },
  { kind: 'page', id: 'app/staff/[clinicId]/manage/closures/page.tsx', allow: ['manager'], call: (fx) => page('../../app/staff/[clinicId]/manage/closures/page')(props({ clinicId: fx.clinic })) },
  { kind: 'page', id: 'app/staff/[clinicId]/manage/hours/page.tsx', allow: ['manager'], call: (fx) => page('../../app/staff/[clinicId]/manage/hours/page')(props({ clinicId: fx.clinic })) },
  { kind: 'page', id: 'app/staff/[clinicId]/manage/policy/page.tsx', allow: ['manager'], call: (fx) => page('../../app/staff/[clinicId]/manage/policy/page')(props({ clinicId: fx.clinic })) },
  { kind: 'page', id: 'app/admin/page.tsx', allow: ['admin'], call: () => page('../../app/admin/page')() },
  { kind: 'page', id: 'app/admin/payments/page.tsx', allow: ['admin'], call: () => page('../../app/admin/payments/page')() },
  { kind: 'page', id: 'app/admin/projections/page.tsx', allow: ['admin'], call: () => page('../../app/admin/projections/page')() },
  { kind: 'page', id: 'app/audit/page.tsx', allow: ['auditor', 'manager'], note: "a manager's trail is their clinic's", call: () => page('../../app/audit/page')({ searchParams: Promise.resolve({}) }) },
  { kind: 'page', id: 'app/audit/[stream]/page.tsx', allow: ['auditor', 'manager'], call: (fx) => page('../../app/audit/[stream]/page')(props({ stream: `reservation-${fx.reservation}` })) },
  { kind: 'page', id: 'app/audit/access/page.tsx', allow: ['auditor', 'manager'], note: "a manager: their clinic's entries only", call: () => page('../../app/audit/access/page')({ searchParams: Promise.resolve({}) }) },
  { kind: 'page', id: 'app/audit/access/review/page.tsx', allow: ['auditor'], call: () => page('../../app/audit/access/review/page')({ searchParams: Promise.resolve({}) }) },
  {
    kind: 'page',
    id: 'app/audit/[stream]/page.tsx',
    variant: "another clinic's stream",
    allow: ['auditor'],
    note: "a clinic manager reads their own clinic's streams only",
    call: (fx) => page('../../app/audit/[stream]/page')(props({ stream: `clinic-${fx.otherClinic}` })),
  },
  { kind: 'page', id: 'app/audit/integrity/page.tsx', allow: ['auditor', 'manager'], note: "a manager checks their clinic's streams; seals are auditors' only", call: () => page('../../app/audit/integrity/page')() },

  // ── Route handlers ────────────────────────────────────────────────────────────────────────────
  { kind: 'route', id: 'app/api/admin/projections/route.ts#GET', allow: ['admin'], call: () => route('api/admin/projections/route', 'GET')('/api/admin/projections') },
  {
    kind: 'route',
    id: 'app/audit/export/route.ts#POST',
    allow: ['auditor', 'manager'],
    note: 'streams the filtered trail after recording the export (access log and security event); the body is not read here',
    call: (fx) => route('audit/export/route', 'POST')('/audit/export', {}, { method: 'POST', body: new URLSearchParams({ log: 'trail', format: 'csv', reason: 'access matrix', clinic: fx.clinic }) }),
  },
  {
    kind: 'route',
    id: 'app/audit/export/route.ts#POST',
    variant: 'the access log',
    allow: ['auditor', 'manager'],
    call: (fx) => route('audit/export/route', 'POST')('/audit/export', {}, { method: 'POST', body: new URLSearchParams({ log: 'access', format: 'json', reason: 'access matrix', clinic: fx.clinic }) }),
  },
  {
    kind: 'route',
    id: 'app/audit/integrity/run/route.ts#POST',
    allow: ['auditor', 'manager'],
    note: "one clinic's chains, streamed as NDJSON",
    call: (fx) => route('audit/integrity/run/route', 'POST')('/audit/integrity/run', {}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'clinic', clinicId: fx.clinic }) }),
  },
  {
    kind: 'route',
    id: 'app/audit/integrity/run/route.ts#POST',
    variant: 'everything (and a seal)',
    allow: ['auditor'],
    note: "the whole log is beyond a manager's clinic",
    call: () => route('audit/integrity/run/route', 'POST')('/audit/integrity/run', {}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'all' }) }),
  },
  {
    kind: 'route',
    id: 'app/audit/integrity/seals/[id]/route.ts#GET',
    allow: ['auditor'],
    allowedAs: () => 'status 404',
    note: 'no seal has that id: an auditor gets 404, everyone else is refused before the lookup',
    call: () => route('audit/integrity/seals/[id]/route', 'GET')('/audit/integrity/seals/999999', { id: '999999' }),
  },
  {
    kind: 'route',
    id: 'app/api/staff/[clinicId]/board/events/route.ts#GET',
    allow: clinicStaff,
    call: (fx) => route('api/staff/[clinicId]/board/events/route', 'GET')(`/api/staff/${fx.clinic}/board/events`, { clinicId: fx.clinic }),
  },
  {
    kind: 'route',
    id: 'app/api/auth/[...nextauth]/route.ts#GET',
    allow: everyone,
    allowedAs: () => 'status 200',
    note: "Auth.js's own endpoints (session, csrf, providers): public by design",
    call: () => route('api/auth/[...nextauth]/route', 'GET')('/api/auth/session', { nextauth: 'session' }),
  },
  {
    kind: 'route',
    id: 'app/api/auth/[...nextauth]/route.ts#POST',
    allow: everyone,
    allowedAs: () => 'status 302',
    note: "Auth.js sign-in/sign-out posts: public, each guarded by its CSRF token (none here: Auth.js redirects to its error page, and logs MissingCSRF, silenced here)",
    call: async () => {
      const log = console.error;
      console.error = () => {};
      try {
        return await route('api/auth/[...nextauth]/route', 'POST')('/api/auth/signout', { nextauth: 'signout' }, { method: 'POST', body: new URLSearchParams({}) });
      } finally {
        console.error = log;
      }
    },
  },
  {
    kind: 'route',
    id: 'app/register/verify/route.ts#GET',
    allow: everyone,
    allowedAs: () => /^status 30[37]$/,
    note: 'the e-mail link: public; an unknown token redirects to the registration page',
    call: () => route('register/verify/route', 'GET')('/register/verify?token=not-a-token'),
  },
  {
    kind: 'route',
    id: 'app/signin/ended/route.ts#GET',
    allow: everyone,
    allowedAs: () => /^status 30[37]$/,
    note: 'clears a refused session cookie, then sign-in: public',
    call: () => route('signin/ended/route', 'GET')('/signin/ended'),
  },

  // ── Server actions: patients (the patient is the session's user, never a form field) ─────────
  {
    kind: 'action',
    id: 'app/actions/account.ts#changeContactAction',
    allow: patients,
    call: (fx) => action('account', 'changeContactAction')(fx.form({ commandId: fx.id(), phone: '010-1234-5678' })),
  },
  {
    kind: 'action',
    id: 'app/actions/account.ts#consentAction',
    allow: patients,
    call: (fx) => action('account', 'consentAction')(fx.form({ commandId: fx.id(), purpose: 'marketing', decision: 'give' })),
  },
  {
    kind: 'action',
    id: 'app/actions/account.ts#eraseMyDataAction',
    allow: patients,
    note: 'without the confirmation box (an allowed caller gets the field error): erasing would end the fixtures; lib/queries/account.test.ts erases',
    call: (fx) => action('account', 'eraseMyDataAction')(fx.form({ commandId: fx.id() })),
  },
  {
    kind: 'action',
    id: 'app/actions/booking.ts#bookAction',
    allow: patients,
    allowedAs: () => redirectTo('/me/reservations/'),
    call: (fx) => action('booking', 'bookAction')(fx.form({ clinicId: fx.clinic, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: fx.freeSlot, commandId: fx.id() })),
  },
  {
    kind: 'action',
    id: 'app/actions/booking.ts#bookAction',
    variant: "replaying the patient's own booking form (its command id)",
    allow: ['patient'],
    allowedAs: () => redirectTo('/me/reservations/'),
    note: 'the owner lands on the reservation it made (idempotent); anyone else must not reach that reservation',
    call: (fx) => action('booking', 'bookAction')(fx.form({ clinicId: fx.clinic, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: fx.bookedSlot, commandId: fx.bookingCommandId })),
  },
  {
    kind: 'action',
    id: 'app/actions/reservations.ts#cancelReservationAction',
    allow: ['patient'],
    allowedAs: (_who, fx) => redirectTo(`/me/reservations/${fx.request}`),
    note: 'on the requested reservation (the free-window reservation stays for the pages)',
    call: (fx) =>
      action('reservations', 'cancelReservationAction')(fx.form({ reservationId: fx.request, commandId: fx.id(), reason: 'schedule', expectedFeeKrw: '0', expectedRefundKrw: '0' })),
  },
  {
    kind: 'action',
    id: 'app/actions/reservations.ts#rescheduleReservationAction',
    allow: ['patient'],
    allowedAs: (_who, fx) => redirectTo(`/me/reservations/${fx.reservation}`),
    call: (fx) => action('reservations', 'rescheduleReservationAction')(fx.form({ reservationId: fx.reservation, commandId: fx.id(), startsAt: fx.rescheduleSlot, expectedFeeKrw: '0' })),
  },
  {
    kind: 'action',
    id: 'app/actions/checkout.ts#payAction',
    allow: ['patient'],
    allowedAs: (_who, fx) => redirectTo(`/checkout/${fx.payment}/success?`),
    call: (fx) => action('checkout', 'payAction')(fx.form({ paymentId: fx.payment, cardNumber: '4242 4242 4242 4242' })),
  },
  {
    kind: 'action',
    id: 'app/actions/checkout.ts#confirmAction',
    allow: ['patient'],
    allowedAs: () => /^(allowed|redirect \/checkout\/)/,
    call: (fx) => action('checkout', 'confirmAction')(fx.form({ paymentId: fx.payment, orderId: fx.payment, paymentKey: 'not-a-key', amount: '10000' })),
  },
  {
    kind: 'action',
    id: 'app/actions/checkout.ts#failAction',
    allow: ['patient'],
    allowedAs: (_who, fx) => redirectTo(`/checkout/${fx.payment}`),
    call: (fx) => action('checkout', 'failAction')(fx.form({ paymentId: fx.payment, code: 'PAY_PROCESS_CANCELED' })),
  },

  // ── Server actions: staff (the clinic is the session's; the form's clinicId only picks pages to refresh) ─
  {
    kind: 'action',
    id: 'app/actions/staff.ts#confirmReservationAction',
    allow: clinicStaff,
    call: (fx) => action('staff', 'confirmReservationAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), reservationId: fx.confirmed })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff.ts#confirmReservationAction',
    variant: "the form naming the other clinic (the other clinic's staff's own)",
    allow: clinicStaff,
    note: "the clinic that counts is the session's, never the form's: the other clinic's staff stay refused",
    call: (fx) => action('staff', 'confirmReservationAction')(fx.form({ clinicId: fx.otherClinic, commandId: fx.id(), reservationId: fx.request })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff.ts#rejectReservationAction',
    allow: clinicStaff,
    note: 'on the reservation the patient cancels later in the table (a decided one is refused by the domain: still past authorisation)',
    call: (fx) => action('staff', 'rejectReservationAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), reservationId: fx.request, reason: 'fully booked' })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff.ts#checkInAction',
    allow: clinicStaff,
    call: (fx) => action('staff', 'checkInAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), reservationId: fx.confirmed })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff.ts#walkInAction',
    allow: clinicStaff,
    note: "otherStaff posts its own clinic's walk-in for this clinic's id: the command layer refuses it",
    call: (fx) => action('staff', 'walkInAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), email: fx.patientEmail })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff.ts#moveVisitAction',
    allow: clinicStaff,
    call: (fx) => action('staff', 'moveVisitAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), visitId: fx.visit, to: 'consultation' })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff.ts#revertVisitAction',
    allow: clinicStaff,
    call: (fx) => action('staff', 'revertVisitAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), visitId: fx.visit, reason: 'wrong button' })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff-patient.ts#revealContactAction',
    allow: clinicStaff,
    note: 'reads the contact after writing the access-log entry',
    call: (fx) => action('staff-patient', 'revealContactAction')(fx.form({ clinicId: fx.clinic, patientId: fx.patient })),
  },
  {
    kind: 'action',
    id: 'app/actions/staff.ts#addTreatmentAction',
    allow: clinicStaff,
    call: (fx) => action('staff', 'addTreatmentAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), visitId: fx.visit, treatmentId: 'tx-botox' })),
  },

  {
    kind: 'action',
    id: 'app/actions/desk.ts#collectCardAction',
    allow: clinicStaff,
    call: (fx) => action('desk', 'collectCardAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), paymentId: fx.payment, cardNumber: '4242 4242 4242 4242' })),
  },
  {
    kind: 'action',
    id: 'app/actions/desk.ts#collectCashAction',
    allow: clinicStaff,
    call: (fx) => action('desk', 'collectCashAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), paymentId: fx.payment, amountKrw: '10000' })),
  },
  {
    kind: 'action',
    id: 'app/actions/desk.ts#refundAction',
    allow: clinicStaff,
    call: (fx) => action('desk', 'refundAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), paymentId: fx.payment, amountKrw: '1000', reason: 'goodwill' })),
  },
  {
    kind: 'action',
    id: 'app/actions/desk.ts#noShowAction',
    allow: clinicStaff,
    note: 'the reservation is days ahead: the domain refuses the no-show, past authorisation',
    call: (fx) => action('desk', 'noShowAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), reservationId: fx.reservation })),
  },

  // ── Server actions: running the clinic (its manager only; the clinic is the session's) ──────────
  {
    kind: 'action',
    id: 'app/actions/manage.ts#listTreatmentAction',
    allow: ['manager'],
    allowedAs: (_who, fx) => redirectTo(`/staff/${fx.clinic}/manage?added=`),
    call: (fx) =>
      action('manage', 'listTreatmentAction')(
        fx.form({ clinicId: fx.clinic, commandId: fx.id(), name: '레이저 제모', category: 'laser', priceKrw: '50,000', depositKrw: '10000', durationMinutes: '30', bookingMode: 'instant', payAndBook: 'on', taxCategory: 'taxable' }),
      ),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#changeTreatmentPriceAction',
    allow: ['manager'],
    call: (fx) => action('manage', 'changeTreatmentPriceAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), treatmentId: 'tx-ulthera', priceKrw: '1200000', depositKrw: '100000' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#changeTreatmentPriceAction',
    variant: "the other clinic's id in the form",
    allow: [],
    note: "a manager of one clinic is refused another's (the session's clinic counts)",
    call: (fx) => action('manage', 'changeTreatmentPriceAction')(fx.form({ clinicId: fx.otherClinic, commandId: fx.id(), treatmentId: 'tx-ulthera', priceKrw: '1', depositKrw: '0' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#changeTreatmentDetailsAction',
    allow: ['manager'],
    call: (fx) =>
      action('manage', 'changeTreatmentDetailsAction')(
        fx.form({ clinicId: fx.clinic, commandId: fx.id(), treatmentId: 'tx-ulthera', name: '울쎄라 300샷', category: 'lifting', durationMinutes: '60', bookingMode: 'clinic-confirm', payAndBook: 'on', taxCategory: 'taxable' }),
      ),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#unlistTreatmentAction',
    allow: ['manager'],
    allowedAs: (_who, fx) => redirectTo(`/staff/${fx.clinic}/manage?unlisted=tx-ulthera`),
    note: 'the Ulthera fixture: no other row books it',
    call: (fx) => action('manage', 'unlistTreatmentAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), treatmentId: 'tx-ulthera' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#setOpeningHoursAction',
    allow: ['manager'],
    note: "Mon–Fri as the fixture's (other rows book weekdays); a lunch break added on Saturday",
    call: async (fx) => {
      const fields: Record<string, string> = { clinicId: fx.clinic, commandId: fx.id() };
      for (const d of [1, 2, 3, 4, 5]) Object.assign(fields, { [`w${d}.0.opens`]: '10:00', [`w${d}.0.closes`]: '13:00', [`w${d}.1.opens`]: '14:00', [`w${d}.1.closes`]: '19:00' });
      Object.assign(fields, { 'w6.0.opens': '10:00', 'w6.0.closes': '12:00', 'w6.1.opens': '13:00', 'w6.1.closes': '15:00' });
      return action('manage', 'setOpeningHoursAction')(fx.form(fields));
    },
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#setSlotConfigurationAction',
    allow: ['manager'],
    note: 'the same values as the fixture (nothing is appended, the decision is still made)',
    call: (fx) => action('manage', 'setSlotConfigurationAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), slotLengthMinutes: '30', slotCapacity: '2' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#setCancellationPolicyAction',
    allow: ['manager'],
    note: "the fixture's policy (reservations the other rows make freeze it)",
    call: (fx) =>
      action('manage', 'setCancellationPolicyAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), freeCancellationHours: '24', lateCancellationFeeKrw: '30,000', noShowForfeitsDeposit: 'on', minimumNoticeHours: '2' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#changeClinicSettingsAction',
    allow: ['manager'],
    call: (fx) => action('manage', 'changeClinicSettingsAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), bookingHorizonDays: '120', paymentDeadlineMinutes: '30', noShowGraceMinutes: '20' })),
  },

  // ── Server actions: audit ─────────────────────────────────────────────────────────────────────
  {
    kind: 'action',
    id: 'app/actions/access-review.ts#recordAccessReviewAction',
    allow: ['auditor'],
    note: 'auditors record the monthly review; a clinic manager does not',
    call: (fx) => action('access-review', 'recordAccessReviewAction')(fx.form({ month: '2026-11', notes: 'matrix' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#setStageThresholdsAction',
    allow: ['manager'],
    call: (fx) => action('manage', 'setStageThresholdsAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), arrived: '20', consultation: '30', procedure: '90', recovery: '60' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#closeDaysAction',
    allow: ['manager'],
    note: 'a day far beyond the days the other rows book',
    call: async (fx) => action('manage', 'closeDaysAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), from: await farDay(), reason: '학회' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#reopenDayAction',
    allow: ['manager'],
    call: async (fx) => action('manage', 'reopenDayAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), day: await farDay() })),
  },

  {
    kind: 'action',
    id: 'app/actions/manage.ts#moveBookingAction',
    allow: ['manager'],
    note: "an unknown reservation (the fixtures' are the other rows'): the manager gets past authorisation to the domain's not-found",
    call: async (fx) => action('manage', 'moveBookingAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), reservationId: 'r-none', day: await farDay(), time: '10:00' })),
  },
  {
    kind: 'action',
    id: 'app/actions/manage.ts#cancelBookingAction',
    allow: ['manager'],
    note: 'an unknown reservation, as above',
    call: (fx) => action('manage', 'cancelBookingAction')(fx.form({ clinicId: fx.clinic, commandId: fx.id(), reservationId: 'r-none', reason: '휴진' })),
  },

  // ── Server actions: admin ─────────────────────────────────────────────────────────────────────
  {
    kind: 'action',
    id: 'app/actions/admin-accounts.ts#setClinicManagerAction',
    allow: ['admin'],
    note: "clears the flag the clinic's plain staff does not have (a real account, nothing changes)",
    call: (fx) => action('admin-accounts', 'setClinicManagerAction')(fx.form({ userId: fx.staffAccount, clinicManager: 'false' })),
  },
  { kind: 'action', id: 'app/actions/admin-payments.ts#reconcileNowAction', allow: ['admin'], call: (fx) => action('admin-payments', 'reconcileNowAction')(fx.form({})) },
  {
    kind: 'action',
    id: 'app/actions/admin-payments.ts#retryStuckPaymentAction',
    allow: ['admin'],
    call: (fx) => action('admin-payments', 'retryStuckPaymentAction')(fx.form({ paymentId: fx.payment })),
  },
  {
    kind: 'action',
    id: 'app/actions/admin-payments.ts#resolveStuckPaymentAction',
    allow: ['admin'],
    call: (fx) => action('admin-payments', 'resolveStuckPaymentAction')(fx.form({ paymentId: fx.payment, note: 'checked with the PG' })),
  },
  {
    kind: 'action',
    id: 'app/actions/projections.ts#requestRebuildAction',
    allow: ['admin'],
    note: "the test's worker rebuilds the audit log then (a small database: a moment)",
    call: async (fx) => (await actions('projections')).requestRebuildAction!(fx.form({ name: 'audit-log' })),
  },
  { kind: 'action', id: 'app/actions/projections.ts#retryParkedAction', allow: ['admin'], call: async () => (await actions('projections')).retryParkedAction!() },
  { kind: 'action', id: 'app/actions/projections.ts#skipParkedAction', allow: ['admin'], call: async (fx) => (await actions('projections')).skipParkedAction!(fx.form({ eventId: fx.id() })) },
  { kind: 'action', id: 'app/actions/integrity.ts#sealNowAction', allow: ['auditor'], note: 'seals the whole log: not a business command, nothing is appended', call: (fx) => action('integrity', 'sealNowAction')(fx.form({})) },

  // ── Server actions: anyone (sign-in, registration, locale) ────────────────────────────────────
  {
    kind: 'action',
    id: 'app/actions/auth.ts#signInAction',
    allow: everyone,
    note: 'a wrong password: the form says so (lib/auth/sign-in.test.ts covers signing in)',
    call: (fx) => action('auth', 'signInAction')(fx.form({ email: fx.patientEmail, password: 'not-the-password' })),
  },
  {
    kind: 'action',
    id: 'app/actions/auth.ts#registerAction',
    allow: everyone,
    note: 'an incomplete form: field errors (lib/auth/registration.test.ts covers registering)',
    call: (fx) => action('auth', 'registerAction')(fx.form({})),
  },
  {
    kind: 'action',
    id: 'app/actions/auth.ts#signOutAction',
    allow: everyone,
    allowedAs: () => 'redirect http://localhost:3000/signin',
    call: async () => (await actions('auth')).signOutAction!(),
  },
  {
    kind: 'action',
    id: 'app/actions/auth.ts#signOutEverywhereAction',
    allow: everyone,
    allowedAs: () => 'redirect http://localhost:3000/signin',
    note: "ends the caller's sessions (the test then restores the fixtures' session versions)",
    call: async () => (await actions('auth')).signOutEverywhereAction!(),
  },
  { kind: 'action', id: 'app/actions/locale.ts#setLocaleAction', allow: everyone, call: async (fx) => (await actions('locale')).setLocaleAction!(fx.form({ locale: 'en' })) },

  // ── Queries: the page-facing ones (each calls requireUser itself) ──────────────────────────────
  { kind: 'query', id: 'lib/queries/admin.ts#listAccounts', allow: ['admin'], call: async () => (await q<Fns>('admin')).listAccounts!() },
  { kind: 'query', id: 'lib/queries/payments-admin.ts#stuckPaymentsForAdmin', allow: ['admin'], call: async () => (await q<Fns>('payments-admin')).stuckPaymentsForAdmin!() },
  { kind: 'query', id: 'lib/queries/projections.ts#projectionsStatus', allow: ['admin'], call: async () => (await q<Fns>('projections')).projectionsStatus!() },
  { kind: 'query', id: 'lib/queries/audit.ts#auditTrail', allow: ['auditor', 'manager'], call: async () => (await q<Fns>('audit')).auditTrail!({}) },
  { kind: 'query', id: 'lib/queries/integrity.ts#integrityPage', allow: ['auditor', 'manager'], call: async () => (await q<Fns>('integrity')).integrityPage!() },
  {
    kind: 'query',
    id: 'lib/queries/integrity.ts#integrityCheck',
    allow: ['auditor', 'manager'],
    call: async (fx) => (await q<Fns>('integrity')).integrityCheck!({ scope: 'clinic', clinicId: fx.clinic }, { origin: { ip: '203.0.113.1', userAgent: 'access matrix' } }),
  },
  {
    kind: 'query',
    id: 'lib/queries/integrity.ts#integrityCheck',
    variant: 'everything',
    allow: ['auditor'],
    call: async () => (await q<Fns>('integrity')).integrityCheck!({ scope: 'all' }, { origin: { ip: '203.0.113.1', userAgent: 'access matrix' } }),
  },
  {
    kind: 'query',
    id: 'lib/queries/integrity.ts#integrityCheck',
    variant: "another clinic's",
    allow: ['auditor'],
    call: async (fx) => (await q<Fns>('integrity')).integrityCheck!({ scope: 'clinic', clinicId: fx.otherClinic }, { origin: { ip: '203.0.113.1', userAgent: 'access matrix' } }),
  },
  { kind: 'query', id: 'lib/queries/integrity.ts#sealDownload', allow: ['auditor'], allowedAs: () => 'nothing', note: 'no seal has that id', call: async () => (await q<Fns>('integrity')).sealDownload!(999999) },
  {
    kind: 'query',
    id: 'lib/queries/audit.ts#auditTrailExport',
    allow: ['auditor', 'manager'],
    call: async () => (await q<Fns>('audit')).auditTrailExport!({}, { format: 'csv', reason: 'access matrix', origin: { ip: '203.0.113.1', userAgent: 'access matrix' }, fields: {} }),
  },
  {
    kind: 'query',
    id: 'lib/queries/audit.ts#accessLogExport',
    allow: ['auditor', 'manager'],
    call: async () => (await q<Fns>('audit')).accessLogExport!({}, { format: 'json', reason: 'access matrix', origin: { ip: '203.0.113.1', userAgent: 'access matrix' }, fields: {} }),
  },
  {
    kind: 'query',
    id: 'lib/queries/audit.ts#revealAuditPatientName',
    allow: ['auditor', 'manager'],
    note: "the fixtures' patient is the clinic's: in a manager's trail too",
    call: async (fx) => (await q<Fns>('audit')).revealAuditPatientName!(fx.patient, { ip: '203.0.113.1', userAgent: 'access matrix' }),
  },
  {
    kind: 'action',
    id: 'app/actions/audit.ts#revealPatientNameAction',
    allow: ['auditor', 'manager'],
    note: 'records the read in the access log, then shows the name',
    call: (fx) => action('audit', 'revealPatientNameAction')(fx.form({ patientId: fx.patient })),
  },
  { kind: 'query', id: 'lib/queries/audit-entity.ts#auditEntity', allow: ['auditor', 'manager'], call: async (fx) => (await q<Fns>('audit-entity')).auditEntity!(`reservation-${fx.reservation}`, null) },
  {
    kind: 'query',
    id: 'lib/queries/access-log.ts#accessLogPage',
    allow: ['auditor', 'manager'],
    note: "a manager's clinic is forced whatever the filter (lib/queries/access-log.test.ts)",
    call: async (fx) => (await q<Fns>('access-log')).accessLogPage!({ clinic: fx.otherClinic }, null),
  },
  { kind: 'query', id: 'lib/queries/access-review.ts#accessReviewPage', allow: ['auditor'], call: async () => (await q<Fns>('access-review')).accessReviewPage!('2026-11') },
  {
    kind: 'query',
    id: 'lib/queries/audit-entity.ts#auditEntity',
    variant: "another clinic's stream, a patient's own stream",
    allow: ['auditor'],
    note: "a clinic manager: 403 for another clinic's stream and for a patient's stream (no clinic's)",
    call: async (fx) => {
      const { auditEntity } = await q<Fns>('audit-entity');
      await auditEntity!(`clinic-${fx.otherClinic}`, null);
      return auditEntity!(`patient-${fx.patient}`, null);
    },
  },
  { kind: 'query', id: 'lib/queries/staff.ts#staffClinicOverview', allow: clinicStaff, call: async (fx) => (await q<Fns>('staff')).staffClinicOverview!(fx.clinic) },
  { kind: 'query', id: 'lib/queries/staff.ts#staffToday', allow: clinicStaff, call: async (fx) => (await q<Fns>('staff')).staffToday!(fx.clinic, undefined) },
  { kind: 'query', id: 'lib/queries/staff.ts#staffTreatments', allow: clinicStaff, call: async (fx) => (await q<Fns>('staff')).staffTreatments!(fx.clinic) },
  {
    kind: 'query',
    id: 'lib/queries/staff.ts#walkInPatient',
    allow: [...clinicStaff, 'otherStaff'],
    note: "any clinic's staff may find a registered patient by e-mail (walk-ins): only the id comes back",
    call: async (fx) => (await q<Fns>('staff')).walkInPatient!(fx.patientEmail),
  },
  { kind: 'query', id: 'lib/queries/ledger.ts#deskLedger', allow: clinicStaff, call: async (fx) => (await q<Fns>('ledger')).deskLedger!(fx.clinic, fx.day) },
  { kind: 'query', id: 'lib/queries/stats.ts#clinicStats', allow: clinicStaff, call: async (fx) => (await q<Fns>('stats')).clinicStats!(fx.clinic) },
  { kind: 'query', id: 'lib/queries/manage.ts#managedClinic', allow: ['manager'], call: async (fx) => (await q<Fns>('manage')).managedClinic!(fx.clinic) },
  { kind: 'query', id: 'lib/queries/manage.ts#requireClinicManager', allow: ['manager'], call: async (fx) => (await q<Fns>('manage')).requireClinicManager!(fx.clinic) },
  { kind: 'query', id: 'lib/queries/staff-patient.ts#staffPatient', allow: clinicStaff, call: async (fx) => (await q<Fns>('staff-patient')).staffPatient!(fx.clinic, fx.patient) },
  {
    kind: 'action',
    id: 'app/actions/staff-patient.ts#revealContactAction',
    variant: "another clinic's patient",
    allow: clinicStaff,
    allowedAs: () => 'not-found',
    call: (fx) => action('staff-patient', 'revealContactAction')(fx.form({ clinicId: fx.clinic, patientId: fx.otherClinicsPatient })),
  },
  {
    kind: 'query',
    id: 'lib/queries/staff-patient.ts#revealPatientContact',
    allow: clinicStaff,
    call: async (fx) => (await q<Fns>('staff-patient')).revealPatientContact!(fx.clinic, fx.patient, { ip: '203.0.113.1', userAgent: 'access matrix' }),
  },
  {
    kind: 'query',
    id: 'lib/queries/closures.ts#closedDayBookings',
    allow: clinicStaff,
    allowedAs: () => 'nothing',
    note: "the fixtures close no day (lib/queries/closures.test.ts lists real ones); the desk moves or cancels the bookings, so all its staff read it",
    call: async (fx) => (await q<Fns>('closures')).closedDayBookings!(fx.clinic),
  },
  { kind: 'query', id: 'lib/queries/board.ts#visitBoard', allow: clinicStaff, call: async (fx) => (await q<Fns>('board')).visitBoard!(fx.clinic, fx.day) },
  { kind: 'query', id: 'lib/queries/account.ts#myAccount', allow: patients, allowedAs: ownOnly, note: 'only the patient has a profile', call: async () => (await q<Fns>('account')).myAccount!() },
  { kind: 'query', id: 'lib/queries/reservations.ts#myReservations', allow: patients, call: async () => (await q<Fns>('reservations')).myReservations!() },
  { kind: 'query', id: 'lib/queries/reservations.ts#myReservation', allow: patients, allowedAs: ownOnly, call: async (fx) => (await q<Fns>('reservations')).myReservation!(fx.reservation) },
  { kind: 'query', id: 'lib/queries/reservations.ts#myCancellationPreview', allow: patients, allowedAs: ownOnly, call: async (fx) => (await q<Fns>('reservations')).myCancellationPreview!(fx.reservation) },
  {
    kind: 'query',
    id: 'lib/queries/reservations.ts#myReschedulePreview',
    allow: patients,
    allowedAs: ownOnly,
    call: async (fx) => (await q<Fns>('reservations')).myReschedulePreview!(fx.reservation, fx.freeSlot),
  },
  { kind: 'query', id: 'lib/queries/reservations.ts#myRescheduleOptions', allow: patients, allowedAs: ownOnly, call: async (fx) => (await q<Fns>('reservations')).myRescheduleOptions!(fx.reservation, undefined) },
  { kind: 'query', id: 'lib/queries/checkout.ts#checkoutView', allow: ['patient'], call: async (fx) => (await q<Fns>('checkout')).checkoutView!(fx.payment) },
  { kind: 'query', id: 'lib/queries/checkout.ts#reservationDeposit', allow: ['patient'], call: async (fx) => (await q<Fns>('checkout')).reservationDeposit!(fx.reservation, { waitMs: 0 }) },
  { kind: 'query', id: 'lib/queries/booking.ts#requireBookingPatient', allow: patients, call: async () => (await q<Fns>('booking')).requireBookingPatient!('/') },

  // ── Queries: public (the catalogue, free slots, the sandbox's test cards) ─────────────────────
  { kind: 'query', id: 'lib/queries/catalogue.ts#catalogue', allow: everyone, call: async () => (await q<Fns>('catalogue')).catalogue!() },
  { kind: 'query', id: 'lib/queries/catalogue.ts#getClinicWithTreatments', allow: everyone, call: async (fx) => (await q<Fns>('catalogue')).getClinicWithTreatments!(fx.clinic) },
  { kind: 'query', id: 'lib/queries/catalogue.ts#listClinics', allow: everyone, call: async () => (await q<Fns>('catalogue')).listClinics!({}) },
  { kind: 'query', id: 'lib/queries/availability.ts#dayAvailability', allow: everyone, call: async (fx) => (await q<Fns>('availability')).dayAvailability!(fx.clinic, 'tx-consult', fx.day) },
  { kind: 'query', id: 'lib/queries/availability.ts#nextFreeSlot', allow: everyone, call: async (fx) => (await q<Fns>('availability')).nextFreeSlot!(await (await q<Fns>('catalogue')).getClinicWithTreatments!(fx.clinic)) },
  { kind: 'query', id: 'lib/queries/booking.ts#bookingClinic', allow: everyone, call: async (fx) => (await q<Fns>('booking')).bookingClinic!(fx.clinic) },
  { kind: 'query', id: 'lib/queries/checkout.ts#checkoutTestCards', allow: everyone, note: "the PG sandbox's published test cards", call: async () => (await q<Fns>('checkout')).checkoutTestCards!() },

  // ── Exports of lib/queries that are not entry points ──────────────────────────────────────────
  ...helpers({
    'the database is a parameter (app/ never holds one: it imports no lib/db): the worker, process managers and tests call these': [
      'account.ts#accountOf',
      'board.ts#boardOf',
      'board.ts#boardVersionOf',
      'reservations.ts#reservationsOf',
      'reservations.ts#reservationOf',
      'reservations.ts#cancellationPreviewOf',
      'reservations.ts#reschedulePreviewOf',
      'staff.ts#slotSeatsOf',
      'staff.ts#todayOf',
      'staff.ts#teamOf',
      'staff.ts#patientByEmailOf',
      'audit-entity.ts#entityHistoryOf',
      'access-log.ts#readAccessLog',
      'ledger.ts#ledgerOf',
      'stats.ts#clinicStatsOf',
      'staff-patient.ts#staffPatientOf',
      'closures.ts#closedDaysOf',
    ],
    'given a user or a view its caller already checked (the booking action; the checkout page after checkoutView)': [
      'booking.ts#reservationIdAvailableTo',
      'checkout.ts#waitForDepositRecorded',
    ],
    'given a clinic the public catalogue returned (the public clinic page)': ['availability.ts#availabilityFor', 'booking.ts#daySlots'],
    "the board's event stream, behind its route's own check: an opaque version and the LISTEN registry": ['board.ts#boardVersion', 'board.ts#boardChanges'],
    'read-your-writes and the public cache: no data of anyone': ['freshness.ts#waitForReadModels', 'public-cache.ts#publicCache'],
    'classes behind boardChanges() and publicCache()': ['board.ts#BoardChanges', 'public-cache.ts#PublicCache'],
    'pure (no I/O)': [
      'availability.ts#lastBookableDay',
      'availability.ts#bookableDays',
      'booking.ts#bookingUrl',
      'booking.ts#bookableDays',
      'booking.ts#horizonEnd',
      'catalogue.ts#bookingDurationOf',
      'catalogue.ts#normalizeSearch',
      'catalogue.ts#matchesSearch',
      'audit-entity.ts#parseAsOf',
      'access-log.ts#accessLogWhere',
      'access-review.ts#previousMonth',
      'audit-entity.ts#toKstLocalInput',
      'staff.ts#isClinicDay',
      'staff.ts#staffDay',
      'board.ts#stageThresholdsOf',
      'staff.ts#shiftDay',
      'state-diff.ts#personalShape',
      'state-diff.ts#flattenState',
      'state-diff.ts#sameLeaf',
      'state-diff.ts#diffStates',
    ],
  }),
];

function helpers(byReason: Record<string, string[]>): HelperRow[] {
  return Object.entries(byReason).flatMap(([reason, ids]) => ids.map((id) => ({ kind: 'query' as const, id: `lib/queries/${id}`, notAnEntryPoint: reason })));
}

