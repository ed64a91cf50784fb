import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../lib/testing/db';
import { generateSecrets } from '../../lib/runtime/secrets';
import { demoSeedDecision, prepareDatabase } from './prepare';

describe('who gets the demo world (its accounts have a published password)', () => {
  it('the no-configuration embedded start does; a configured database does not', () => {
    expect(demoSeedDecision({}, true).seed).toBe(true);
    expect(demoSeedDecision({}, false).seed).toBe(false);
  });

  it('SEED_DEMO=true asks for it explicitly, SEED_DEMO=false refuses it even for the embedded start', () => {
    expect(demoSeedDecision({ SEED_DEMO: 'true' }, false).seed).toBe(true);
    expect(demoSeedDecision({ SEED_DEMO: 'false' }, true).seed).toBe(false);
  });

  it('never when NODE_ENV=production, whatever else asks for it', () => {
    expect(demoSeedDecision({ NODE_ENV: 'production' }, true)).toEqual({ seed: false, why: 'NODE_ENV=production' });
    expect(demoSeedDecision({ NODE_ENV: 'production', SEED_DEMO: 'true' }, false).seed).toBe(false);
    expect(demoSeedDecision({ NODE_ENV: 'production', SEED_DEMO: 'true' }, true).seed).toBe(false);
  });
});

describe('preparing a database', async () => {
  const secrets = generateSecrets();

  it('without the demo world: migrated, and no account anyone could sign in with', async () => {
    const t = await createTestDatabase();
    await prepareDatabase(t.url, () => {}, { seedDemo: demoSeedDecision({ NODE_ENV: 'production', SEED_DEMO: 'true' }, true).seed, secrets });
    const [users] = await t.sql`select count(*)::int as n from users`;
    const [seedRuns] = await t.sql`select count(*)::int as n from seed_runs`;
    expect({ users: users?.n, seedRuns: seedRuns?.n }).toEqual({ users: 0, seedRuns: 0 });
  });

  it('with it: the demo accounts exist', async () => {
    const t = await createTestDatabase();
    await prepareDatabase(t.url, () => {}, { seedDemo: true, secrets });
    const rows = await t.sql`select email from users where email = 'admin@yeyak.example'`;
    expect(rows).toHaveLength(1);
  });
});
