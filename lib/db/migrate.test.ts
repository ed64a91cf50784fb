import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/db';

describe('migrations', () => {
  it('create the foundation tables', async () => {
    const t = await createTestDatabase();
    const rows = await t.sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['clinics', 'security_events', 'seed_runs', 'treatments', 'users']));
  });
});
