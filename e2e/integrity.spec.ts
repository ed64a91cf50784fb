/**
 * The integrity page (/audit/integrity, issue 10 item 3). The test writes a scratch stream of its own
 * (three chained events), the auditor checks everything — intact — seals the log and checks it again
 * against the downloaded seal; then the test alters one event of its stream as a superuser would
 * (UPDATE with the append-only trigger bypassed: session_replication_role = replica) and the check
 * names that event, one stream and everything alike. The event is put back afterwards, so the shared
 * e2e database is intact again for the specs after this one.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { connect, type Database } from '../lib/db/client';
import { createEventStore, type EventStore } from '../lib/eventstore';
import { expectForbidden, signIn } from './helpers';

let database: Database;
let store: EventStore;
const streamId = `integrity-e2e-${randomBytes(4).toString('hex')}`;
let target: { event_id: string; data: string };

test.beforeAll(async () => {
  const url = process.env.E2E_DATABASE_URL;
  const hmacKey = process.env.EVENT_HMAC_KEY;
  if (!url || !hmacKey) throw new Error('run through `npm run test:e2e` (E2E_DATABASE_URL and the run secrets)');
  database = connect(url, { max: 2 });
  store = await createEventStore({ databaseUrl: url, hmacKey, applicationName: 'yeyak-e2e-integrity' });
  for (let n = 0; n < 3; n++) {
    await store.append(streamId, [{ type: 'IntegrityProbe', schemaVersion: 1, data: { n }, metadata: { actor: { id: 'e2e', role: 'system' }, occurredAt: new Date().toISOString() } }]);
  }
  [target] = (await database.sql`select event_id::text, data::text as data from es_events where stream_id = ${streamId} and revision = 1`) as unknown as [{ event_id: string; data: string }];
});

/** As a superuser: the append-only trigger bypassed for this transaction only. */
async function asSuperuser(run: (sql: Database['sql']) => Promise<unknown>) {
  await database.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await run(tx as unknown as Database['sql']);
  });
}

test.afterAll(async () => {
  // Put the altered event back exactly as it was (the chain is intact again).
  if (target) await asSuperuser((sql) => sql`update es_events set data = ${target.data}::jsonb where event_id = ${target.event_id}`);
  await store?.close();
  await database?.close();
});

const screens = '.data/screens';
async function shoot(page: Page, name: string) {
  fs.mkdirSync(screens, { recursive: true });
  for (const [width, height] of [
    [1280, 900],
    [375, 800],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `${screens}/integrity-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function runCheck(page: Page, scope: '스트림 하나' | '전체', options: { stream?: string; sealFile?: string } = {}) {
  await page.getByRole('radio', { name: scope }).check();
  if (options.stream) await page.getByLabel('스트림 ID').fill(options.stream);
  if (options.sealFile) await page.getByLabel('봉인 파일 (선택)').setInputFiles(options.sealFile);
  await page.getByRole('button', { name: '검사 시작' }).click();
  const result = page.getByTestId('integrity-result');
  await expect(result).toBeVisible({ timeout: 60_000 });
  return result;
}

test('the integrity check passes, and after one event is altered as superuser it names that event', async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, 'auditor@yeyak.example');
  await page.waitForURL('**/audit');
  await page.goto('/audit/integrity');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('무결성');

  // Everything: every stream, the stream heads and the access log's chain.
  const intact = await runCheck(page, '전체');
  await expect(intact).toHaveAttribute('data-ok', 'true');
  await expect(intact).toContainText('정상');
  await expect(page.getByTestId('access-result')).toContainText('접속기록 정상');

  // Seal the log now, download the seal, and check the log against it.
  await page.getByRole('button', { name: '지금 봉인' }).click();
  await expect(page.getByTestId('form-ok')).toHaveText('로그를 봉인했습니다.');
  const download = page.waitForEvent('download');
  await page.getByTestId('seal-download').first().click();
  const sealPath = `${screens}/integrity-seal.json`;
  fs.mkdirSync(screens, { recursive: true });
  await (await download).saveAs(sealPath);
  const sealFile = JSON.parse(fs.readFileSync(sealPath, 'utf8')) as { seal: { events: { count: number } }; signature: string; publicKey: string };
  expect(sealFile.seal.events.count).toBeGreaterThan(0);
  expect(sealFile.publicKey).not.toBe('');
  const sealed = await runCheck(page, '전체', { sealFile: sealPath });
  await expect(sealed).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('seal-result')).toContainText('서명이 유효합니다');
  await shoot(page, 'intact');

  // A superuser changes the middle event's data: the chains name it, one stream and everything alike.
  await asSuperuser((sql) => sql`update es_events set data = '{"n": 99}'::jsonb where event_id = ${target.event_id}`);
  await page.reload();
  for (const scope of ['스트림 하나', '전체'] as const) {
    const broken = await runCheck(page, scope, scope === '스트림 하나' ? { stream: streamId } : {});
    await expect(broken).toHaveAttribute('data-ok', 'false');
    await expect(page.getByTestId('first-broken')).toContainText(streamId);
    await expect(page.getByTestId('broken-event-id')).toHaveText(target.event_id);
    await expect(page.getByTestId('first-broken')).toContainText('이벤트가 변경되었습니다');
  }
  await shoot(page, 'broken');

  // Each run is recorded (the trail shows security events): the last one named the altered event.
  const [run] = await database.sql<{ ok: string; event_id: string | null }[]>`
    select detail->>'ok' as ok, detail->'firstBroken'->>'eventId' as event_id from security_events where type = 'integrity_check' order by id desc limit 1`;
  expect(run).toEqual({ ok: 'false', event_id: target.event_id });
});

test('staff, patients and admins get 403 on the integrity page', async ({ page }) => {
  for (const who of ['hongdae.staff@yeyak.example', 'seojun@yeyak.example', 'admin@yeyak.example']) {
    await page.context().clearCookies();
    await signIn(page, who);
    await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
    await page.goto('/audit/integrity');
    await expectForbidden(page);
  }
});
