import { requireSecrets, secretNames } from '../../lib/runtime/secrets';
import { nextBin, tsxBin } from './build';
import { ProcessGroup } from './processes';

/**
 * Node options of the production web server, given to Node on its command line (through tsx), so they
 * apply to the server's process only (not to the tsx launcher or the worker). A 384 MiB old space
 * keeps the process near 450-490 MiB resident under the HTTP benchmark's load, where an unlimited heap
 * grew to 700-850 MiB; the 64 MiB semi-space (young generation; V8's default maximum is 16 MiB) keeps
 * scavenges rare enough that booking throughput did not drop (docs/PERFORMANCE.md, "Booking over
 * HTTP and resident memory"). WEB_NODE_OPTIONS replaces them (empty: none); `npm run dev` sets none.
 */
export const productionWebNodeOptions = '--max-old-space-size=384 --max-semi-space-size=64';

/** The web server's own Node flags: WEB_NODE_OPTIONS when set, else the production ones (none in dev). */
export function webNodeFlags(dev: boolean, env: NodeJS.ProcessEnv = process.env): string[] {
  const own = env.WEB_NODE_OPTIONS ?? (dev ? '' : productionWebNodeOptions);
  return own.split(/\s+/).filter(Boolean);
}

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
  group.spawn('web', process.execPath, [tsxBin, ...webNodeFlags(options.dev), 'scripts/web-server.ts', ...(options.dev ? ['--dev'] : [])], env);
  return group;
}
