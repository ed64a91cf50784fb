/**
 * Serves an already built and migrated app: worker + `next start`.
 * Used by the e2e tests' web server; `npm start` does the set-up first and then the same.
 */
import { serveApp } from './lib/serve';

const log = (m: string) => console.log(`[serve] ${m}`);
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL must be set');
  process.exit(2);
}
const group = serveApp({ databaseUrl, dev: false, port: Number(process.env.PORT ?? 3000), hostname: process.env.SERVE_HOST, log });
process.exitCode = await group.wait();
