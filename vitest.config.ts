import { configDefaults, defineConfig } from 'vitest/config';
import path from 'node:path';

/** Tests that claim "whatever the machine's time zone": run again under a zone far from Seoul (and with DST). */
const zoneSensitive = ['lib/format.test.ts', 'lib/domain/shared/shared.test.ts', 'lib/projections/rows.test.ts', 'lib/testing/time-zone.test.ts'];

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    pool: 'forks',
    // Two cores: more workers only add contention on the shared PostgreSQL.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'app/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'lib/testing/time-zone.test.ts'],
          globalSetup: ['lib/testing/global-setup.ts'],
          // next-auth imports 'next/server' without an extension, which Node's own resolver refuses:
          // let Vite resolve it (lib/auth/guard.test.ts runs the real Auth.js session decoding).
          server: { deps: { inline: ['next-auth'] } },
        },
      },
      // Pure tests only (no database): the global set-up is not needed here.
      { extends: true, test: { name: 'tz-los-angeles', include: zoneSensitive, env: { TZ: 'America/Los_Angeles' } } },
    ],
  },
});
