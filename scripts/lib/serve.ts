import { requireSecrets, secretNames } from '../../lib/runtime/secrets';
import { nextBin, tsxBin } from './build';
import { ProcessGroup } from './processes';

/**
 * Starts the worker and the web server against `databaseUrl`; they stop together. The secrets come
 * from the environment (the embedded start puts its development secrets there first); without them
 * this throws MissingSecrets naming each one, before anything is started.
 */
export function serveApp(options: { databaseUrl: string; dev: boolean; port: number; hostname?: string; log: (m: string) => void }): ProcessGroup {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...requireSecrets(secretNames),
    DATABASE_URL: options.databaseUrl,
    NEXT_TELEMETRY_DISABLED: '1',
    PORT: String(options.port),
    SERVE_HOST: options.hostname ?? '',
  };
  const group = new ProcessGroup(options.log);
  // RUN_WORKER=false when the worker runs as its own service (docker-compose.yml).
  if (process.env.RUN_WORKER !== 'false') group.spawn('worker', process.execPath, [tsxBin, 'lib/worker/main.ts'], env);
  // Our own server around Next (scripts/web-server.ts), also for `npm run dev`: it pins the client
  // address to the socket's and drops client-sent forwarding headers, the same rule in both modes.
  group.spawn('web', process.execPath, [tsxBin, 'scripts/web-server.ts', ...(options.dev ? ['--dev'] : [])], env);
  return group;
}
