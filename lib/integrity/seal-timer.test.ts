/** The worker's seal timer: a seal soon after start, recorded as a security event; off with 0. */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../eventstore';
import { createTestDatabase } from '../testing/db';
import { eventually } from '../testing/eventually';
import { sealPrivateKey } from './seal';
import { startSealTimer } from './seal-timer';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: randomBytes(32).toString('base64') });
afterAll(() => store.close());
const signing = sealPrivateKey(randomBytes(32).toString('base64'));
const log = { info: () => {}, warn: (obj: object) => console.warn(obj) };

describe('seal timer', () => {
  it('seals the log after its first delay and records log_sealed; 0 minutes turns it off', async () => {
    await store.append('timer-a', [{ type: 'Ticked', schemaVersion: 1, data: {}, metadata: { actor: { id: 't', role: 'system' }, occurredAt: new Date().toISOString() } }]);
    const off = startSealTimer({ store, sql: t.sql, db: t.db, keys: { signing, trusted: [signing] }, intervalMinutes: 0, firstDelayMs: 0, log });
    const timer = startSealTimer({ store, sql: t.sql, db: t.db, keys: { signing, trusted: [signing] }, intervalMinutes: 60, firstDelayMs: 0, log });
    await eventually(async () => {
      const rows = await t.sql`select issued_by from integrity_seals`;
      expect(rows).toEqual([{ issued_by: 'schedule' }]);
    });
    await timer.stop();
    await off.stop();
    const events = await t.sql`select detail->>'by' as by from security_events where type = 'log_sealed'`;
    expect(events).toEqual([{ by: 'schedule' }]);
  });
});
