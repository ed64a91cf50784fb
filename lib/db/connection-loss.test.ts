/**
 * A transaction whose connection is cut mid-query (PostgreSQL restart, failover) must fail with the
 * connection error and leave the process and the pool working. With a plain `db.transaction`,
 * postgres.js 3.4.9 sends ROLLBACK on the dead connection from its catch block and that deferred
 * write throws an uncaught TypeError (`Cannot read properties of null (reading 'write')`), which
 * kills a worker (vitest reports it as an unhandled error, failing this file).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type Database } from './client';
import { createTestDatabase, type TestDatabase } from '../testing/db';
import { createSandboxGateway } from '../payments/sandbox';
import { guardConnectionLoss, isConnectionLoss, safeTransaction } from './connection-loss';

let t: TestDatabase;
let database: Database;

beforeAll(async () => {
  t = await createTestDatabase({ max: 3 });
  database = connect(t.url, { max: 2 });
});
afterAll(async () => {
  await database?.close();
});

/**
 * The pool answers again. (postgres.js keeps the FATAL error of the cut session and fails the first
 * query of the reconnected connection with it once: a connection loss, retried like any other.)
 */
async function poolWorks(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const [ok] = (await database.db.execute(sql`select 1 as one`)) as unknown as [{ one: number }];
      expect(ok.one).toBe(1);
      return;
    } catch (error) {
      if (attempt >= 2 || !isConnectionLoss(error)) throw error;
    }
  }
}

async function cutWhileRunning(run: (onPid: (pid: number) => void) => Promise<unknown>): Promise<unknown> {
  let pid: number | undefined;
  // Settled either way from the start (it fails while the terminate is still being awaited).
  const running = run((p) => (pid = p)).then(
    () => 'committed',
    (error: unknown) => error,
  );
  for (let i = 0; pid === undefined && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
  expect(pid).toBeDefined();
  await new Promise((r) => setTimeout(r, 50)); // the sleep is in flight
  await t.sql`select pg_terminate_backend(${pid!})`;
  return running;
}

it('a transaction cut in mid-query rejects with the connection loss, and the pool goes on', async () => {
  for (let round = 0; round < 5; round++) {
    const error = await cutWhileRunning((onPid) =>
      safeTransaction(database.db, async (tx) => {
        const [row] = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as [{ pid: number }];
        onPid(row.pid);
        await tx.execute(sql`select pg_sleep(3)`);
      }),
    );
    expect(isConnectionLoss(error), String(error)).toBe(true);
    // Let a deferred write (the crash) run, if any.
    await new Promise((r) => setTimeout(r, 50));
    await poolWorks();
  }
});

it('the same inside a savepoint (the isolated apply of a projection)', async () => {
  const error = await cutWhileRunning((onPid) =>
    safeTransaction(database.db, async (tx) => {
      const [row] = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as [{ pid: number }];
      onPid(row.pid);
      await tx.transaction(async (sp) => guardConnectionLoss(() => sp.execute(sql`select pg_sleep(3)`)));
    }),
  );
  expect(isConnectionLoss(error), String(error)).toBe(true);
  await new Promise((r) => setTimeout(r, 50));
  await poolWorks();
});

it('other errors still roll back as usual', async () => {
  await database.db.execute(sql`create table if not exists cl_probe (n int)`);
  await expect(
    safeTransaction(database.db, async (tx) => {
      await tx.execute(sql`insert into cl_probe values (1)`);
      throw new Error('not a connection problem');
    }),
  ).rejects.toThrow('not a connection problem');
  const [row] = (await database.db.execute(sql`select count(*)::int as n from cl_probe`)) as unknown as [{ n: number }];
  expect(row.n).toBe(0);
});

it('a payment step: the sandbox gateway’s confirm cut in mid-transaction rejects with the connection loss, and the retry charges once', async () => {
  const gateway = createSandboxGateway(database.sql, { timeoutMs: 10 });
  const orderId = `cl-order-${Date.now()}`;
  await gateway.createOrder({ orderId, orderName: 'deposit', amount: 50_000 });
  const attempt = await gateway.authorize({ orderId, amount: 50_000, cardNumber: '4242424242424242' });
  // Another session holds the order row, so the confirm's transaction waits inside its body.
  let locked!: () => void;
  let release!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const released = new Promise<void>((r) => (release = r));
  const holder = t.sql.begin(async (tx) => {
    await tx`select 1 from payment_sandbox_orders where order_id = ${orderId} for update`;
    locked();
    await released;
  });
  await isLocked;
  const error = await cutWhileRunning(async (onPid) => {
    const confirming = gateway.confirm({ paymentKey: attempt.paymentKey, orderId, amount: 50_000 });
    for (let i = 0; i < 200; i++) {
      const [row] = await t.sql<{ pid: number }[]>`
        select pid from pg_stat_activity where wait_event_type = 'Lock' and query like '%payment_sandbox_orders%for no key update%'`;
      if (row) {
        onPid(row.pid);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return confirming;
  });
  release();
  await holder;
  expect(isConnectionLoss(error), String(error)).toBe(true);
  await new Promise((r) => setTimeout(r, 50));
  await poolWorks();
  // Nothing was charged by the cut attempt; confirming again (idempotent) charges once.
  expect((await gateway.getPayment(attempt.paymentKey)).status).toBe('IN_PROGRESS');
  expect(await confirmAgain(gateway, attempt.paymentKey, orderId)).toMatchObject({ status: 'DONE', balanceAmount: 50_000 });
  const [charged] = await t.sql<{ n: number }[]>`select count(*)::int as n from payment_sandbox_payments where order_id = ${orderId} and status = 'DONE'`;
  expect(charged!.n).toBe(1);
});

/** The first query after the cut may still see the old session's FATAL (see poolWorks): retried like any connection loss. */
async function confirmAgain(gateway: ReturnType<typeof createSandboxGateway>, paymentKey: string, orderId: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await gateway.confirm({ paymentKey, orderId, amount: 50_000 });
    } catch (error) {
      if (attempt >= 2 || !isConnectionLoss(error)) throw error;
    }
  }
}
