/**
 * A rebuild that fails is shown to the admin: /admin/projections (the server page and its live
 * client part, rendered as Next.js would on the first request) names the failure and says the live
 * tables were kept. The failure is real: a rebuild of the audit log whose handler cannot take an
 * event in the log (lib/projections/rebuild.test.ts checks the tables; this checks the page).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createElement, type ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { NextIntlClientProvider } from 'next-intl';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { users } from '@/lib/db/schema';
import { createEventStore } from '@/lib/eventstore';
import { loadMessages } from '@/lib/i18n/messages';
import { auditLogProjection } from '@/lib/projections/read-models/audit-log';
import { rebuildProjections } from '@/lib/projections/rebuild';
import { appendOne } from '@/lib/projections/testing';
import type { Projection } from '@/lib/projections/types';
import { PROJECTIONS_GROUP } from '@/lib/projections/worker';
import { createTestDatabase } from '@/lib/testing/db';
import { signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', () => import('@/lib/testing/next-request'));
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);
const admin: TestAccount = { id: randomUUID(), email: 'admin@rebuild-error.example', name: 'Admin', role: 'admin', clinicId: null };
let eventId = '';

beforeAll(async () => {
  await t.db.insert(users).values({ ...admin, passwordHash: 'x' });
  const store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  try {
    await store.groups.create(PROJECTIONS_GROUP, { startFrom: 'start' });
    const poisonStream = `poison-${randomBytes(4).toString('hex')}`;
    await appendOne(store, { stream: poisonStream, events: [{ type: 'Poison', schemaVersion: 1, data: { note: 'x' } }] });
    eventId = (await store.readStream(poisonStream))[0]!.eventId;
    // readAll (and so a rebuild) sees an append once no older transaction runs anywhere on the server.
    for (let attempt = 0; (await store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1 }))[0]?.eventId !== eventId; attempt++) {
      if (attempt > 150) throw new Error('the poison event never became readable');
      await new Promise((r) => setTimeout(r, 200));
    }
    const broken: Projection = {
      ...auditLogProjection,
      async handle(tx, events) {
        if (events.some((e) => e.recorded.streamId === poisonStream)) throw new Error('the handler cannot take this event');
        return auditLogProjection.handle(tx, events);
      },
    };
    await expect(rebuildProjections({ store, database: t, projections: [broken] })).rejects.toThrow(/cannot take this event/);
  } finally {
    await store.close();
  }
});

describe('/admin/projections after a failed rebuild', () => {
  it('shows the failure, naming the event, and that the live tables were kept', async () => {
    await signInAs(admin);
    const { default: ProjectionsPage } = await import('./page');
    const messages = await loadMessages('ko');
    const html = renderToStaticMarkup(createElement(NextIntlClientProvider, { locale: 'ko', messages, timeZone: 'Asia/Seoul', children: (await ProjectionsPage()) as ReactNode }));
    const row = html.slice(html.indexOf('audit-log'));
    expect(row).toContain('재구축 실패 (운영 테이블은 그대로입니다)');
    expect(row).toContain(eventId);
    expect(row).toContain('the handler cannot take this event');
  });
});
