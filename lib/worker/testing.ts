/** Test helper: the real worker process (lib/worker/main.ts) on a test database, for the chaos and fault tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export type WorkerProcess = ChildProcess & { output: () => string };

/**
 * `node --import tsx` runs the worker in this one process (the tsx CLI would run it in a child of
 * its own, and a SIGKILL of the CLI would leave that child running).
 */
export function spawnWorker(env: { DATABASE_URL: string; EVENT_HMAC_KEY: string; PERSONAL_DATA_MASTER_KEY: string; WORKER_ID: string } & Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/worker/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      SEAL_SIGNING_KEY: randomBytes(32).toString('base64'),
      // The seal timer is tested in lib/integrity; here it would only add a whole-log read.
      SEAL_INTERVAL_MINUTES: '0',
      EVENTSTORE_URL: '',
      YEYAK_GROUP_LEASE_MS: '1500',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as WorkerProcess;
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  child.output = () => output;
  return child;
}

export const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
