import { loadOrCreateDevSecrets } from '../../lib/runtime/secrets';
import { nextBin, tsxBin } from './build';
import { ProcessGroup } from './processes';

/** Starts the worker and the web server against `databaseUrl`; they stop together. */
export function serveApp(options: { databaseUrl: string; dev: boolean; port: number; hostname?: string; log: (m: string) => void }): ProcessGroup {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...loadOrCreateDevSecrets(),
    DATABASE_URL: options.databaseUrl,
    AUTH_TRUST_HOST: 'true',
    NEXT_TELEMETRY_DISABLED: '1',
    PORT: String(options.port),
  };
  const group = new ProcessGroup(options.log);
  // RUN_WORKER=false when the worker runs as its own service (docker-compose.yml).
  if (process.env.RUN_WORKER !== 'false') group.spawn('worker', process.execPath, [tsxBin, 'lib/worker/main.ts'], env);
  const nextArgs = [nextBin, options.dev ? 'dev' : 'start', '-p', String(options.port)];
  if (options.hostname) nextArgs.push('-H', options.hostname);
  group.spawn('web', process.execPath, nextArgs, env);
  return group;
}
