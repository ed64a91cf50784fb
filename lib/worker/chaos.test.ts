/**
 * Chaos: the real worker process (lib/worker/main.ts) is SIGKILLed at seeded random moments, ten
 * times, while 5,000 events are appended; each time a new one is started, and each must have applied
 * events before it is killed. In the end the read models
 * must equal a clean rebuild from the log exactly (every table, row for row).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEventStore, type EventStore, type Position } from '../eventstore';
import { createPersonalDataVault } from '../privacy/vault';
import { rebuildProjections } from '../projections/rebuild';
import { allProjections } from '../projections/registry';
import { appendOne, generateHistory, seededRandom, snapshotReadModels } from '../projections/testing';
import { waitForProjections } from '../projections/wait';
import { createTestDatabase, type TestDatabase } from '../testing/db';
import { exited, spawnWorker, type WorkerProcess } from './testing';

const hmacKey = 'chaos-test-hmac-key-0123456789';
const masterKey = randomBytes(32).toString('base64');
let t: TestDatabase;
let store: EventStore;
const children = new Set<WorkerProcess>();

function startWorker(n: number): WorkerProcess {
  const child = spawnWorker({ DATABASE_URL: t.url, EVENT_HMAC_KEY: hmacKey, PERSONAL_DATA_MASTER_KEY: masterKey, WORKER_ID: `chaos-${n}`, PROJECTIONS_BATCH_SIZE: '200' });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await store?.close();
});

it('SIGKILLed ten times while 5,000 events are appended, the worker ends with exactly what a clean rebuild gives', { timeout: 170_000 }, async () => {
  const vault = createPersonalDataVault(t.sql, masterKey);
  const history = generateHistory({ events: 5000, seed: 42 });
  const rnd = seededRandom(2026);
  let last: Position | undefined;
  let appended = 0;
  const auditRows = async () => ((await t.sql`select count(*)::int as n from rm_audit_log`) as unknown as [{ n: number }])[0].n;
  // A tenth of the history per round, spread over about three seconds and appended while that
  // round's worker runs, so every worker has work to do (a kill of an idle process proves nothing).
  const perRound = Math.ceil(history.length / 10);
  const appendPart = async (round: number) => {
    const part = history.slice(round * perRound, (round + 1) * perRound);
    const perTick = Math.ceil(part.length / 10);
    for (let i = 0; i < part.length; i += perTick) {
      for (const a of part.slice(i, i + perTick)) {
        last = (await appendOne(store, a, vault.encryptEvent)).position;
        appended += a.events.length;
      }
      await sleep(300);
    }
  };
  let appender: Promise<void> = Promise.resolve();

  for (let round = 0; round < 10; round++) {
    const before = await auditRows();
    const worker = startWorker(round);
    appender = appender.then(() => appendPart(round));
    // Progress is required before each kill: the worker started and applied events (a slow start
    // would otherwise let every kill hit a process that had not begun). Then kill at a random
    // moment into its work.
    const deadline = Date.now() + 30_000;
    while ((await auditRows()) <= before) {
      if (Date.now() > deadline) throw new Error(`worker ${round} made no progress in 30 s:\n${worker.output()}`);
      await sleep(100);
    }
    await sleep(Math.floor(rnd() * 2500));
    worker.kill('SIGKILL');
    const { signal } = await exited(worker);
    expect(signal).toBe('SIGKILL');
  }
  await appender;
  expect(appended).toBeGreaterThanOrEqual(5000);

  const survivor = startWorker(99);
  const caughtUp = await waitForProjections(last!, { sql: t.sql, timeoutMs: 60_000 });
  if (caughtUp !== 'caught-up') console.error(survivor.output());
  expect(caughtUp).toBe('caught-up');
  survivor.kill('SIGTERM');
  const stopped = await exited(survivor);
  expect({ ...stopped, output: survivor.output().slice(-3000) }).toMatchObject({ code: 0 });

  expect(await store.groups.listParked('projections')).toEqual([]);
  const events = (await store.readAll({ maxCount: 100_000 })).length;
  const [{ n }] = (await t.sql`select count(*)::int as n from rm_audit_log`) as unknown as [{ n: number }];
  expect(n).toBe(events);

  const live = await snapshotReadModels(t.sql);
  await rebuildProjections({ store, database: t, projections: allProjections, decryptor: vault });
  const rebuilt = await snapshotReadModels(t.sql);
  for (const table of Object.keys(rebuilt)) expect(live[table], table).toEqual(rebuilt[table]);
});
