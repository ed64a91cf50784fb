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
  if (options.dev) {
    const devArgs = [nextBin, 'dev', '-p', String(options.port)];
    if (options.hostname) devArgs.push('-H', options.hostname);
    group.spawn('web', process.execPath, devArgs, env);
  } else {
    // Our own server around Next (scripts/web-server.ts): it pins the client address to the socket's.
    group.spawn('web', process.execPath, [tsxBin, 'scripts/web-server.ts'], { ...env, SERVE_HOST: options.hostname ?? '' });
  }
  return group;
}
