/**
 * The authorisation matrix (lib/auth/access-matrix.ts) run for real: every page, server action, route
 * handler and query called directly (no proxy in front: the second line of defence is what is tested)
 * for every role, with real Auth.js session cookies, real accounts and real ids — the patient's
 * reservations, visit and payment at the staff's clinic — so the command layer's ownership checks are
 * reached too. Only the allowed pairs get through; the rest go to sign-in (401 for a route) or get 403
 * (an owner-scoped read: 404), and a refused call appends nothing to the event store. A real worker
 * keeps the read models current, so the pages read what the actions wrote.
 * The table must cover the code: a page, route handler, server action or query export without a row
 * fails the first test.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { users } from '../db/schema';
import { createTestDatabase, storedEvents } from '../testing/db';
import { buildMatrixWorld, entryPointsInCode, type MatrixAccounts } from '../testing/matrix-world';
import { outcome, signInAs, useTestEnvironment } from '../testing/next-request';
import { accessMatrix, everyone, isEntry, type EntryRow, type Fixtures, type Seen, type Who } from './access-matrix';

vi.mock('next/headers', () => import('../testing/next-request'));
vi.mock('next/cache', () => import('../testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('../testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const ROOT = path.resolve(import.meta.dirname, '../..');
let accounts: MatrixAccounts;
let fx: Fixtures;
let stopWorker: () => Promise<void> = async () => {};
const as = (who: Who) => signInAs(who === 'anonymous' ? null : accounts[who]);

beforeAll(async () => {
  const world = await buildMatrixWorld(t);
  ({ accounts, fx } = world);
  stopWorker = world.stop;
}, 60_000);
afterAll(() => stopWorker());

// ── The table covers the code ─────────────────────────────────────────────────────────────────────

describe('the access matrix covers every entry point', () => {
  it('every page, route handler, server action and query export has a row (and every row still exists)', async () => {
    const inCode = await entryPointsInCode();
    const inTable = accessMatrix.map((row) => row.id);
    const keys = accessMatrix.map((row) => `${row.id} ${(isEntry(row) && row.variant) || ''}`);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i), 'rows listed twice').toEqual([]);
    expect(
      inCode.filter((id) => !inTable.includes(id)),
      'entry points without a row in lib/auth/access-matrix.ts',
    ).toEqual([]);
    expect(
      inTable.filter((id) => !inCode.includes(id)),
      'rows for things that no longer exist',
    ).toEqual([]);
    for (const row of accessMatrix) expect(existsSync(path.join(ROOT, row.id.split('#')[0]!)), row.id).toBe(true);
  });
});

describe('the proxy (first line) lets through everyone the table allows', () => {
  it("for every page, decideRoute (proxy.ts) answers 'allow' to each role the table allows", async () => {
    const { decideRoute } = await import('./roles');
    const blocked: string[] = [];
    for (const row of accessMatrix.filter(isEntry).filter((r) => r.kind === 'page')) {
      const url = `/${row.id.replace(/^app\//, '').replace(/\/?page\.tsx$/, '')}`.replace(/\[(\w+)\]/g, (_m, name: string) => {
        const byParam: Record<string, string> = { clinicId: fx.clinic, reservationId: fx.reservation, paymentId: fx.payment, stream: `reservation-${fx.reservation}` };
        return byParam[name] ?? name;
      });
      for (const who of row.allow) {
        // The proxy sees the session's role and clinic; the manager flag is the pages' to check (from the account row).
        const decision = decideRoute(url, who === 'anonymous' ? null : accounts[who]);
        if (decision !== 'allow') blocked.push(`${url} ${who}: ${decision}`);
      }
    }
    expect(blocked).toEqual([]);
  });
});

// ── Every row for every role ──────────────────────────────────────────────────────────────────────

/** No data: null, an empty list, or an object of empty lists (another patient's "my reservations"). */
const isEmpty = (v: unknown): boolean =>
  v == null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v).length > 0 && Object.values(v).every((x) => Array.isArray(x) && x.length === 0));

async function seenBy(row: EntryRow): Promise<Seen> {
  let result: unknown;
  const seen = await outcome(async () => {
    result = await row.call(fx);
  });
  if (seen === 'allowed' && result instanceof Response) {
    await result.body?.cancel();
    return `status ${result.status}`;
  }
  // A query that lets a caller in must still show them only their own: an empty answer is told apart.
  if (seen === 'allowed' && row.kind === 'query' && isEmpty(result)) return 'nothing';
  return seen;
}

function expectedFor(row: EntryRow, who: Who): Seen | RegExp {
  const route = row.kind === 'route';
  if (row.allow.includes(who)) return row.allowedAs?.(who, fx) ?? (route ? 'status 200' : 'allowed');
  return row.refusedAs?.[who] ?? (who === 'anonymous' ? (route ? 'status 401' : 'sign-in') : route ? 'status 403' : 'forbidden');
}

describe('every entry point for every role, with the proxy bypassed', () => {
  for (const row of accessMatrix.filter(isEntry)) {
    const refused = everyone.filter((w) => !row.allow.includes(w));
    const allowed = everyone.filter((w) => row.allow.includes(w));
    it(`${row.kind} ${row.id}${row.variant ? ` (${row.variant})` : ''}: ${row.allow.length === everyone.length ? 'everyone' : `only ${row.allow.join(', ')}`}`, async () => {
      const seen: Record<string, Seen> = {};
      const expected: Record<string, unknown> = {};
      const appendedWhenRefused: Record<string, number> = {};
      // Refused callers first: the real ids are still in the state the fixtures made.
      for (const who of [...refused, ...allowed]) {
        await as(who);
        const before = (await storedEvents(t.sql)).count;
        seen[who] = await seenBy(row);
        if (refused.includes(who)) appendedWhenRefused[who] = (await storedEvents(t.sql)).count - before;
        const want = expectedFor(row, who);
        expected[who] = want instanceof RegExp ? expect.stringMatching(want) : want;
      }
      // "Sign out everywhere" ended the caller's sessions: the fixtures' cookies must count again.
      if (row.id.includes('signOutEverywhere')) await t.db.update(users).set({ sessionVersion: 0 });
      expect(seen).toEqual(expected);
      expect(appendedWhenRefused).toEqual(Object.fromEntries(refused.map((w) => [w, 0])));
    });
  }
});
