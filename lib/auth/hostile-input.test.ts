/**
 * Hostile input (issue 13): every server action — every export of every 'use server' file, found in
 * the code as the access matrix finds them, so a new action is covered or this test fails — gets
 * HOSTILE_RUNS (default 500) generated payloads from fast-check, called as a signed-in user of a role
 * the matrix allows, with a real Auth.js session, in the matrix's world (real ids of two clinics and
 * two patients). Each payload starts from the matrix row's own valid form and breaks it: fields dropped,
 * repeated, replaced by wrong types (files, numbers at the edges), huge strings, unicode edge cases
 * (lone surrogates, RTL overrides, zero-width, NUL, combining marks, emoji), real ids that belong to
 * another patient or clinic, extra fields; or the arguments themselves are not a form at all (a client
 * can post any serialisable arguments to an action id).
 *
 * For each call: nothing thrown except Next's own 403/404/redirect (anything else would be a 500), never
 * 'errors.unexpected' (an unknown error swallowed into the form), a rejection always says why (a field
 * error, a form error — a domain error's code with its ko/en message — or a 403/404), and a rejected
 * call appends nothing to the event store (its head position is read after every call).
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { users } from '../db/schema';
import { createTestDatabase } from '../testing/db';
import { buildMatrixWorld, serverActionsInCode, type MatrixWorld } from '../testing/matrix-world';
import { outcome, signInAs, useTestEnvironment } from '../testing/next-request';
import { accessMatrix, isEntry, type EntryRow, type Fixtures, type Who } from './access-matrix';

vi.mock('next/headers', () => import('../testing/next-request'));
vi.mock('next/cache', () => import('../testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('../testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUNS = Number(process.env.HOSTILE_RUNS ?? 500);
/** Run last: they end the caller's account (erasure) — everything before still runs on a whole world. */
const LAST = ['app/actions/account.ts#eraseMyDataAction'];
const actionIds = (await serverActionsInCode()).sort((a, b) => Number(LAST.includes(a)) - Number(LAST.includes(b)) || a.localeCompare(b));

let world: MatrixWorld;
beforeAll(async () => {
  world = await buildMatrixWorld(t);
}, 60_000);
afterAll(async () => {
  await world?.stop();
  const total = Object.values(tally).reduce((n, c) => n + c.calls, 0);
  console.log(`hostile input: ${actionIds.length} actions, ${total} calls (${Object.values(tally).reduce((n, c) => n + c.accepted, 0)} accepted as valid, the rest refused)`);
});

const tally: Record<string, { calls: number; accepted: number }> = {};

// ── What a hostile client sends ───────────────────────────────────────────────────────────────────

const edgeStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'x\uDBFF',
  '\uDC00y',
  '\u202Eevil\u202C',
  '\u200F\u05E9\u05DC\u05D5\u05DD',
  '\u0645\u0631\u062D\u0628\u0627',
  '\u200B',
  '\u200C\u200D\u2060',
  '\uFEFF',
  'e\u0301\u0301\u0301\u0301\u0301',
  'Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319\u0324\u031E\u0349\u035A\u032F\u031E\u0320\u034D',
  '😀',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '\uFFFD',
  '\uFFFF',
  '한글\u3164',
  '０１２３',
  '١٢٣',
  'null',
  'undefined',
  'NaN',
  'true',
  '[object Object]',
  '{"$gt":""}',
  '__proto__',
  "' or 1=1 --",
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '%00',
  '\r\n\r\n',
  '\t',
];
const edgeNumbers = ['0', '-0', '-1', '1', '0.5', '1e309', '-1e309', '1e-400', 'Infinity', '-Infinity', '2147483647', '2147483648', '-2147483649', '9007199254740993', '18446744073709551616', '0x1F', '1_000', '1,000', '₩1,000원', '00000000000000000001', '+5'];
const edgeDates = ['2026-02-30', '2026-13-01', '0000-01-01', '9999-12-31', '2026-12-01T25:00:00+09:00', '2026-12-01T10:00:00', '2026-12-01T10:00:00Z', '1970-01-01T00:00:00.000Z', '275760-09-13T00:00:00.000Z', '24:00', '23:60', '-01:00', '10:00:00'];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hostileText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...edgeStrings) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(loneSurrogate, fc.constantFrom(...edgeStrings), fc.string({ maxLength: 3 })), { maxLength: 8 }).map((p) => p.join('')) },
  { weight: 2, arbitrary: fc.constantFrom(...edgeNumbers) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.bigInt()).map(String) },
  { weight: 2, arbitrary: fc.constantFrom(...edgeDates) },
  // Huge: past every field's limit (and far past a sensible one).
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '가', '😀', '\u0301', '\u0000'), fc.constantFrom(1_001, 10_000, 200_000)).map(([c, n]) => c.repeat(n)) },
);

/** What goes into one form field: text, a real id of someone else, or not text at all. */
type FieldValue = { text: string } | { file: number } | { twice: [string, string] };
const fieldValue = (others: fc.Arbitrary<string>): fc.Arbitrary<FieldValue> =>
  fc.oneof(
    { weight: 6, arbitrary: hostileText.map((text) => ({ text })) },
    { weight: 3, arbitrary: others.map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.nat({ max: 4096 }).map((file) => ({ file })) },
    { weight: 1, arbitrary: fc.tuple(hostileText, others).map((twice) => ({ twice })) },
  );

type Mutation = { op: 'keep' } | { op: 'drop' } | { op: 'set'; value: FieldValue };
interface Payload {
  caller: Who;
  previous: unknown;
  /** Not a form at all (the action is posted other arguments). */
  notAForm?: unknown;
  mutations: Record<string, Mutation>;
  extra: Array<[string, FieldValue]>;
}

const extraNames = fc.oneof(
  fc.constantFrom('patientId', 'userId', 'staffId', 'clinicId', 'role', 'clinicManager', 'amountKrw', 'reservationId', 'paymentId', 'visitId', '__proto__', 'constructor', 'toString', '$ACTION_ID_deadbeef', '$ACTION_REF_1', '1_commandId', ''),
  fc.string({ maxLength: 12 }),
);

function payloads(base: Record<string, string>, callers: Who[], others: string[]): fc.Arbitrary<Payload> {
  const other = fc.constantFrom(...others);
  const keys = Object.keys(base);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 2, arbitrary: fc.constant({ op: 'keep' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'drop' as const }) },
    { weight: 4, arbitrary: fieldValue(other).map((value) => ({ op: 'set' as const, value })) },
  );
  const record = fc.record({
    caller: fc.constantFrom(...callers),
    previous: fc.oneof({ weight: 8, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.constantFrom(null, undefined, 'state', 42, []) }),
    mutations: fc.record(Object.fromEntries(keys.map((k) => [k, mutation]))) as fc.Arbitrary<Record<string, Mutation>>,
    extra: fc.array(fc.tuple(extraNames, fieldValue(other)), { maxLength: 4 }),
    notAForm: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 0, -1, 'a string', true, [], {}, [['commandId', 'x']], { ...base }, { get: 'x' }) },
    ),
  });
  // Always hostile: at least one of the form's own fields is broken, or something extra comes with it.
  return record.map((p) => {
    const broken = Object.values(p.mutations).some((m) => m.op !== 'keep');
    if (broken || keys.length === 0) return p;
    return { ...p, mutations: { ...p.mutations, [keys[0]!]: { op: 'drop' as const } } };
  });
}

function formOf(base: Record<string, string>, p: Payload): FormData {
  const form = new FormData();
  const put = (name: string, v: FieldValue) => {
    if ('text' in v) form.append(name, v.text);
    else if ('file' in v) form.append(name, new Blob([new Uint8Array(v.file)]), 'upload.bin');
    else for (const text of v.twice) form.append(name, text);
  };
  for (const [name, value] of Object.entries(base)) {
    const m = p.mutations[name] ?? { op: 'keep' };
    if (m.op === 'keep') form.append(name, value);
    else if (m.op === 'set') put(name, m.value);
  }
  for (const [name, v] of p.extra) put(name, v);
  return form;
}

// ── The matrix's rows: who may call each action, and a valid form to break ────────────────────────

class Captured extends Error {}

/** The form the matrix row submits (null: the row calls the action without a form). Signed out, so a form-less call does nothing. */
async function baseFormOf(row: EntryRow, fx: Fixtures): Promise<Record<string, string>> {
  let fields: Record<string, string> = {};
  const spy: Fixtures = {
    ...fx,
    form: (f) => {
      fields = f;
      throw new Captured();
    },
  };
  await signInAs(null);
  await outcome(() => row.call(spy));
  return fields;
}

const head = async () => (await t.sql<{ p: string }[]>`select coalesce(max(position), 0)::text as p from es_events`)[0]!.p;

type Call = (previous: unknown, form: unknown) => Promise<unknown>;
async function actionOf(id: string): Promise<{ call: Call; arity: number }> {
  const [file, name] = id.split('#') as [string, string];
  const fn = ((await import(/* @vite-ignore */ path.join(ROOT, file))) as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
  // (previous state, form) for form actions with useActionState; (form) or () for plain form actions.
  return { arity: fn.length, call: (previous, form) => (fn.length >= 2 ? fn(previous, form) : fn.length === 1 ? fn(form) : fn(form, previous)) };
}

/** A refusal that says why: a field error, a form error (not the unknown error), or a projection action's error. */
function refusalOf(value: unknown): { refused: boolean; why: string[] } {
  if (!value || typeof value !== 'object') return { refused: false, why: [] };
  const v = value as { formError?: unknown; fieldErrors?: Record<string, unknown>; ok?: unknown; error?: unknown };
  if (v.ok === false) return { refused: true, why: [String(v.error ?? '')].filter(Boolean) };
  const fieldErrors = Object.values(v.fieldErrors ?? {}).flatMap((e) => (Array.isArray(e) ? e : [e])).map(String).filter(Boolean);
  if (v.formError === undefined && !v.fieldErrors) return { refused: false, why: [] };
  return { refused: true, why: [...(typeof v.formError === 'string' && v.formError ? [v.formError] : []), ...fieldErrors] };
}

const domainMessages = ['ko', 'en'].map((l) => JSON.parse(readFileSync(path.join(ROOT, `lib/i18n/messages/${l}/domain-errors.json`), 'utf8')) as Record<string, unknown>);
const messageAt = (messages: Record<string, unknown>, key: string): unknown => key.split('.').reduce<unknown>((m, k) => (m && typeof m === 'object' ? (m as Record<string, unknown>)[k] : undefined), messages);

describe('hostile input to every server action', () => {
  it('every server action has a row in the access matrix (its callers and a valid form to break)', () => {
    const rows = new Set(accessMatrix.filter(isEntry).map((r) => r.id));
    expect(actionIds.length).toBeGreaterThan(0);
    expect(actionIds.filter((id) => !rows.has(id))).toEqual([]);
  });

  for (const id of actionIds) {
    it(`${id}: ${RUNS} hostile payloads — no crash, a reason for each refusal, nothing appended when refused`, async () => {
      // The row without a variant: its form is the ordinary valid one.
      const rows = accessMatrix.filter(isEntry).filter((r) => r.id === id);
      const row = rows.find((r) => !r.variant) ?? rows[0];
      expect(row, `${id} has no row in lib/auth/access-matrix.ts`).toBeDefined();
      const { fx, accounts } = world;
      const callers = row!.allow.filter((w): w is Exclude<Who, 'anonymous'> => w !== 'anonymous');
      expect(callers.length, `${id}: no signed-in caller may use it`).toBeGreaterThan(0);
      const base = await baseFormOf(row!, fx);
      const others = [
        fx.otherClinic,
        fx.otherClinicsPatient,
        world.otherClinicsVisit,
        accounts.otherPatient.id,
        accounts.otherStaff.id,
        accounts.admin.id,
        accounts.manager.id,
        fx.patient,
        fx.reservation,
        fx.request,
        fx.confirmed,
        fx.visit,
        fx.payment,
        fx.clinic,
        fx.bookingCommandId,
        'tx-botox',
        accounts.otherPatient.email,
      ];
      const { call } = await actionOf(id);
      const seen = (tally[id] = { calls: 0, accepted: 0 });
      let signedInAs: Who | null = null;
      let position = await head();

      await fc.assert(
        fc.asyncProperty(payloads(base, callers, others), async (p) => {
          if (signedInAs !== p.caller) {
            await signInAs(accounts[p.caller as Exclude<Who, 'anonymous'>]);
            signedInAs = p.caller;
          }
          let value: unknown;
          const how = await outcome(async () => {
            value = await call(p.previous, p.notAForm !== undefined ? p.notAForm : formOf(base, p));
          });
          const after = await head();
          const appended = after !== position;
          position = after;
          seen.calls++;
          expect(how, 'a thrown error is a 500').not.toMatch(/^error /);
          if (how === 'forbidden' || how === 'not-found' || how === 'sign-in') {
            expect(appended, `${how}, yet events were appended`).toBe(false);
            return;
          }
          if (how.startsWith('redirect ')) {
            // Valid input (the action went on to its next page).
            seen.accepted++;
            return;
          }
          const { refused, why } = refusalOf(value);
          if (!refused) {
            // Accepted as valid (e.g. a free-text field that takes any text), or an action with no answer to give
            // (setLocaleAction ignores an unknown locale): nothing else to check.
            seen.accepted++;
            if (value === undefined) expect(appended, 'an action with no answer appended events').toBe(false);
            return;
          }
          expect(appended, `refused (${why.join(', ')}), yet events were appended`).toBe(false);
          expect(why.length, `a refusal without a reason: ${JSON.stringify(value)}`).toBeGreaterThan(0);
          expect(why, 'an unknown error reached the form (logged as unexpected)').not.toContain('errors.unexpected');
          for (const key of why.filter((k) => k.startsWith('domainErrors.'))) {
            for (const messages of domainMessages) expect(messageAt(messages, key), `no message for ${key}`).toEqual(expect.any(String));
          }
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
      // Put back what a valid call may have changed about the callers' accounts (sign out everywhere,
      // the manager flag), so the next action is called by the same accounts.
      await t.db.update(users).set({ sessionVersion: 0 });
      await t.db.update(users).set({ clinicManager: true }).where(eq(users.id, accounts.manager.id));
    }, 600_000);
  }
});
