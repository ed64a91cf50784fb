/**
 * The trail's export does not buffer: through the route handler, against a real database, the rows
 * are queried a page at a time and only as the client reads the body. A client that has read the
 * first chunk and then waits has caused at most one page query; reading on asks for the rest, page
 * by page. Fails if the export reads the whole result before (or while) the client is not reading:
 * one unbounded query, or pages queried ahead of the reader.
 */
import { randomUUID } from 'node:crypto';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as schema from '@/lib/db/schema';
import { users } from '@/lib/db/schema';
import { TRAIL_EXPORT_PAGE_SIZE } from '@/lib/projections/read-models/audit-log/trail';
import { rmAuditLog } from '@/lib/projections/schema';
import { createTestDatabase } from '@/lib/testing/db';
import { signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', async () => ({ ...(await import('@/lib/testing/next-request')) }));
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

// The app's pool (appDatabase) is this one: the same database, with every statement it runs counted.
const statements: string[] = [];
const sql = postgres(t.url, { max: 4, onnotice: () => {}, debug: (_connection, query) => statements.push(query) });
(globalThis as unknown as { yeyakDatabase?: unknown }).yeyakDatabase = { sql, db: drizzle(sql, { schema }), close: () => sql.end({ timeout: 5 }) };
afterAll(() => sql.end({ timeout: 5 }));
/** The trail page queries run so far (the export's record of itself writes elsewhere). */
const pageQueries = () => statements.filter((q) => q.includes('from rm_audit_log e')).length;

const id = randomUUID();
const auditor: TestAccount = { id, email: `auditor-${id.slice(0, 8)}@backpressure.example`, name: 'auditor', role: 'auditor', clinicId: null };
const CLINIC = `bp-${id.slice(0, 6)}`;
const PAGES = 4;
const ROWS = PAGES * TRAIL_EXPORT_PAGE_SIZE + 7;

beforeAll(async () => {
  await t.db.insert(users).values({ ...auditor, passwordHash: 'x' });
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    eventId: randomUUID(),
    positionCommit: BigInt(5000 + i),
    positionPrepare: 0n,
    occurredAt: new Date(Date.UTC(2026, 2, 2, 1, 0, i)),
    recordedAt: new Date(Date.UTC(2026, 2, 2, 1, 0, i)),
    actorId: 'staff-1',
    actorRole: 'staff',
    clinicId: CLINIC,
    patientId: `p${i % 13}`,
    streamId: `reservation-bp${i}`,
    revision: 0,
    entityType: 'reservation',
    entityId: `bp${i}`,
    eventType: 'ReservationRequested',
    schemaVersion: 3,
    summary: `reservationId=bp${i}`,
    correlationId: `c${i}`,
  }));
  for (let i = 0; i < rows.length; i += 500) await t.db.insert(rmAuditLog).values(rows.slice(i, i + 500));
});

describe('the trail export under a slow reader', () => {
  it('queries one page per read of the client, none ahead of it', async () => {
    await signInAs(auditor);
    const { POST } = await import('./route');
    const { NextRequest } = await import('next/server');
    const { headers } = await import('next/headers');
    const fields = { log: 'trail', format: 'csv', reason: 'backpressure check', clinic: CLINIC };
    const response = await POST(new NextRequest('http://localhost:3000/audit/export', { method: 'POST', body: new URLSearchParams(fields), headers: new Headers(await headers()) }) as never);
    expect(response.status).toBe(200);
    const before = pageQueries();
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const read = async () => {
      const { done, value } = await reader.read();
      if (!done) text += decoder.decode(value, { stream: true });
      return done;
    };
    // The header, then the first page's first chunk; then the client pauses.
    await read();
    await read();
    await new Promise((r) => setTimeout(r, 300));
    expect(pageQueries() - before).toBe(1);
    expect(text.split('\n').length - 1).toBeLessThanOrEqual(1 + TRAIL_EXPORT_PAGE_SIZE);
    // Reading on: the rest, page by page, every row once.
    while (!(await read()));
    expect(pageQueries() - before).toBe(PAGES + 1);
    const lines = text.replace(/^\uFEFF/, '').trimEnd().split('\n');
    expect(lines).toHaveLength(1 + ROWS);
    expect(new Set(lines.slice(1).map((l) => /reservation-bp\d+/.exec(l)![0])).size).toBe(ROWS);
    expect(lines[1]).toContain(`reservation-bp${ROWS - 1}`);
    expect(lines.at(-1)).toContain('reservation-bp0,');
  });
});
