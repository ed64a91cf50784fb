/**
 * The worker survives its database connections being cut (what a PostgreSQL restart or failover
 * does to it): it keeps running, reconnects, and projects what was appended meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { createEventStore, type EventStore } from '../eventstore';
import { appendAll, generateHistory } from '../projections/testing';
import { waitForProjections } from '../projections/wait';
import { createTestDatabase, type TestDatabase } from '../testing/db';

const root = path.resolve(import.meta.dirname, '../..');
const hmacKey = 'reconnect-test-hmac-key-0123456789';
let t: TestDatabase;
let store: EventStore;
let worker: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey, applicationName: 'reconnect-test' });
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await store?.close();
});

it('keeps projecting after every connection of its database is terminated', { timeout: 90_000 }, async () => {
  onTestFailed(() => {
    // The worker's whole output, for a failure that the assertion message truncates.
    const file = path.join(os.tmpdir(), `yeyak-reconnect-worker-${process.pid}.log`);
    writeFileSync(file, output);
    console.error(`worker output: ${file}`);
  });
  worker = spawn(process.execPath, ['--import', 'tsx', 'lib/worker/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      EVENT_HMAC_KEY: hmacKey,
      PERSONAL_DATA_MASTER_KEY: randomBytes(32).toString('base64'),
      SEAL_SIGNING_KEY: randomBytes(32).toString('base64'),
      // The seal timer is tested in lib/integrity; here it would only add a whole-log read.
      SEAL_INTERVAL_MINUTES: '0',
      EVENTSTORE_URL: '',
      YEYAK_GROUP_LEASE_MS: '1500',
      LOG_LEVEL: process.env.RECONNECT_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d) => (output += d));
  worker.stderr!.on('data', (d) => (output += d));

  const history = generateHistory({ events: 400, seed: 11 });
  const before = await appendAll(store, history.slice(0, 200));
  expect(await waitForProjections(before!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');

  // Cut every session of the worker, as a restart would (the test's own sessions stay).
  const [cut] = await t.sql`
    select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and application_name <> 'reconnect-test'`;
  expect(cut!.n).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 500)); // let the test's own idle pool notice, too

  const after = await appendAll(store, history.slice(200));
  expect(await waitForProjections(after!, { sql: t.sql, timeoutMs: 45_000 }), output).toBe('caught-up');
  expect(worker.exitCode, output).toBeNull();
  const [rows] = await t.sql`select count(*)::int as n from rm_audit_log`;
  expect(rows!.n).toBe((await store.readAll({ maxCount: 100_000 })).length);
});
