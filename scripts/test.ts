/**
 * `npm test`: every test in one command.
 * 1. Finds PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded one).
 * 2. Type-checks the project (tsc).
 * 3. Unit and integration tests (vitest); each test file clones its own database.
 * 4. Builds the app once (if stale) and runs the browser tests (Playwright, Debian's chromium)
 *    against `next start` and the worker, on a migrated and seeded database of their own.
 * Prints one closing line with the totals; exits non-zero if anything failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createScratchDatabase } from '../lib/db/scratch';
import { resolveTestServer } from '../lib/runtime/postgres-server';
import { generateSecrets, requireSecrets } from '../lib/runtime/secrets';
import { buildIfStale } from './lib/build';
import { prepareDatabase } from './lib/prepare';
import { exitCodeOf } from './lib/processes';
import { playwrightFailures, vitestFailures, type PlaywrightResults, type VitestResults } from './lib/test-failures';

const e2eOnly = process.argv.includes('--e2e-only');
// `npm run test:e2e -- e2e/booking.spec.ts`: only those spec files (or Playwright filters).
const e2eFilters = process.argv.slice(2).filter((a) => a !== '--e2e-only');
const log = (m: string) => console.log(`[test] ${m}`);
const resultsDir = '.data/test-results';
fs.rmSync(resultsDir, { recursive: true, force: true });
fs.mkdirSync(resultsDir, { recursive: true });

const server = await resolveTestServer(log);
log(`PostgreSQL: ${server.kind} (${new URL(server.adminUrl).host})`);
// Every later step (and the runners we start) uses this same server.
process.env.YEYAK_TEST_PG_URL = server.adminUrl;
// The browser tests' server gets secrets of this run's own, explicitly (no process generates its own).
Object.assign(process.env, generateSecrets());
const env = { ...process.env };
const bin = (name: string, file: string) => path.resolve('node_modules', name, file);

interface Totals { passed: number; failed: number; skipped: number }
const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
const failedSteps: string[] = [];
// Named again at the very end, so that the tail of a long CI log says which tests failed and why.
const failedTests: string[] = [];

async function step(name: string, run: () => Promise<number>) {
  log(`── ${name}`);
  const code = await run();
  if (code !== 0) failedSteps.push(`${name} (exit ${code})`);
}

try {
  if (!e2eOnly) {
    await step('type-check', () => exitCodeOf(process.execPath, [bin('typescript', 'bin/tsc'), '--noEmit', '-p', '.'], { env }));
    await step('unit and integration tests (vitest)', () =>
      exitCodeOf(process.execPath, [bin('vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsDir}/vitest.json`], { env }),
    );
    const vitest = readJson<VitestResults>(`${resultsDir}/vitest.json`);
    if (vitest) {
      totals.passed += vitest.numPassedTests;
      totals.failed += vitest.numFailedTests;
      totals.skipped += vitest.numPendingTests + vitest.numTodoTests;
      failedTests.push(...vitestFailures(vitest));
    }
  }

  const e2e = await createScratchDatabase('yeyak_e2e', log);
  try {
    // The browser tests sign in with the demo accounts: seeded on purpose (SEED_DEMO=true's meaning).
    await prepareDatabase(e2e.url, log, { seedDemo: true, secrets: requireSecrets(['EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY']) });
    await buildIfStale(log);
    await step('browser tests (playwright)', () =>
      exitCodeOf(process.execPath, [bin('@playwright/test', 'cli.js'), 'test', ...e2eFilters], { env: { ...env, E2E_DATABASE_URL: e2e.url, AUTH_URL: `http://127.0.0.1:${process.env.E2E_PORT ?? 3100}` } }),
    );
    const results = readJson<PlaywrightResults>(`${resultsDir}/e2e.json`);
    if (results) {
      totals.passed += results.stats.expected + results.stats.flaky;
      totals.failed += results.stats.unexpected;
      totals.skipped += results.stats.skipped;
      failedTests.push(...playwrightFailures(results));
    }
  } finally {
    await e2e.drop();
  }
} catch (error) {
  failedSteps.push(`set-up: ${(error as Error).message}`);
  console.error(error);
} finally {
  await server.stop();
}

for (const t of failedTests) log(`failed test: ${t}`);
if (failedSteps.length) log(`failed: ${failedSteps.join('; ')}`);
// A step that failed without failing tests of its own (type-check, set-up) still counts as a failure.
if (failedSteps.length && totals.failed === 0) totals.failed = failedSteps.length;
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSteps.length || totals.failed ? 1 : 0);

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    log(`no results in ${file}`);
    return undefined;
  }
}
