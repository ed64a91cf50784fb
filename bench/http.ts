/**
 * HTTP benchmark of the public and patient pages (not a test): part of `npm run bench`, alone with
 * `npx tsx bench/http.ts`. Run it under `flock /tmp/yeyak-heavy.lock` (it builds if stale and serves).
 *
 * On a fresh database of its own: migrated, the demo world seeded through the commands, then scaled to
 * HTTP_CLINICS (default 50) clinics and HTTP_EVENTS (default 200,000) events with the read side's
 * realistic history generator, and the read models built. Then the production server (the worker and
 * scripts/web-server.ts, as `npm start` runs them) on HTTP_PORT (default 3171), and autocannon at
 * HTTP_CONNECTIONS (default 10) connections for HTTP_SECONDS (default 20) per page, after a warm-up:
 * - page_clinic_p99_ms / page_clinic_rps: /clinics/gangnam-glow with a day's availability
 *   (?treatment=…&day=…), signed out;
 * - page_home_p99_ms / page_home_rps: / (50 clinic cards, each with its next free slot), signed out;
 * - page_floor_signin_*: /signin, a small page through the same layout, proxy and header (the floor
 *   that per-request rendering sets);
 * - page_me_p99_ms / page_me_rps: /me signed in as a demo patient with 20 reservations (booked through
 *   bookReservation), when the build has a /me page.
 * Every response must be 200 (non-2xx responses are counted and reported). Prints a table and writes
 * bench/results/http.json with the machine (cores, load average before and after).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import { eq } from 'drizzle-orm';
import { encode } from 'next-auth/jwt';
import { bookReservation, commandMetadata, type CommandDeps } from '@/lib/commands';
import { connect } from '@/lib/db/client';
import { createScratchDatabase, type ScratchDatabase } from '@/lib/db/scratch';
import { users } from '@/lib/db/schema';
import { atLocal, clinicDay, plusMinutes } from '@/lib/domain';
import { createEventStore } from '@/lib/eventstore';
import { PROCESS_MANAGER_GROUP } from '@/lib/process-managers';
import { PROCESS_MANAGER_EVENT_TYPES } from '@/lib/process-managers/reactions';
import { rebuildProjections } from '@/lib/projections/rebuild';
import { PROJECTIONS_GROUP } from '@/lib/projections/worker';
import { allProjections } from '@/lib/projections/registry';
import { appendOne, generateHistory, type Append } from '@/lib/projections/testing';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { commandDepsFor } from '@/lib/runtime/command-deps';
import { buildIfStale } from '../scripts/lib/build';
import { prepareDatabase } from '../scripts/lib/prepare';
import { serveApp } from '../scripts/lib/serve';
import { isMain, machineInfo, printTable, round, writeResult, type Figure } from './lib';

const CLINICS = Number(process.env.HTTP_CLINICS ?? 50);
const EVENTS = Number(process.env.HTTP_EVENTS ?? 200_000);
const PORT = Number(process.env.HTTP_PORT ?? 3171);
const CONNECTIONS = Number(process.env.HTTP_CONNECTIONS ?? 10);
const SECONDS = Number(process.env.HTTP_SECONDS ?? 20);
const ME_RESERVATIONS = 20;
const PATIENT_EMAIL = 'minji@yeyak.example';
const log = (m: string) => console.log(`[bench:http] ${m}`);

export interface BenchServer {
  baseUrl: string;
  databaseUrl: string;
  secrets: Record<'AUTH_SECRET' | 'EVENT_HMAC_KEY' | 'PERSONAL_DATA_MASTER_KEY', string>;
  stop(): Promise<void>;
}

/** Appends in parallel lanes, each stream always in the same lane (so each stream stays in order). */
async function appendLanes(append: (a: Append) => Promise<unknown>, appends: Append[], lanes = 8): Promise<void> {
  const buckets: Append[][] = Array.from({ length: lanes }, () => []);
  for (const a of appends) {
    let h = 0;
    for (let i = 0; i < a.stream.length; i++) h = (h * 31 + a.stream.charCodeAt(i)) >>> 0;
    buckets[h % lanes]!.push(a);
  }
  await Promise.all(buckets.map(async (b) => { for (const a of b) await append(a); }));
}

/**
 * A seeded (and, with `scale`, scaled) database of its own and the production server on it.
 * Also used for screenshots: `scale: false` gives the demo world alone.
 */
export async function startBenchServer(options: { scale: boolean; port?: number; serveEnv?: Record<string, string> }): Promise<BenchServer> {
  const secrets = {
    AUTH_SECRET: randomBytes(32).toString('base64'),
    EVENT_HMAC_KEY: randomBytes(32).toString('base64'),
    PERSONAL_DATA_MASTER_KEY: randomBytes(32).toString('base64'),
  };
  Object.assign(process.env, secrets);
  const scratch: ScratchDatabase = await createScratchDatabase('yeyak_bench_http', log);
  const url = scratch.url;
  await prepareDatabase(url, log, { seedDemo: true, secrets });
  const database = connect(url, { max: 8 });
  const store = await createEventStore({ databaseUrl: url, hmacKey: secrets.EVENT_HMAC_KEY, maxConnections: 10 });
  try {
    const deps = commandDepsFor(database.sql, store, secrets.PERSONAL_DATA_MASTER_KEY);
    const vault = createPersonalDataVault(database.sql, secrets.PERSONAL_DATA_MASTER_KEY);
    const [{ count: seeded }] = (await database.sql`select count(*)::int as count from es_events`) as unknown as [{ count: number }];
    if (options.scale) {
      const history = generateHistory({ events: Math.max(0, EVENTS - seeded), seed: 7, clinics: Math.max(0, CLINICS - 4), idPrefix: 'bench-' });
      log(`scaling: appending ${history.reduce((n, a) => n + a.events.length, 0)} events for ${CLINICS - 4} more clinics…`);
      await appendLanes((a) => appendOne(store, a, vault.encryptEvent), history);
    }
    // The worker's groups start here, after the seed and the generated history: the read models are
    // built from them below, and that history is the past (no process manager should react to it). Otherwise the
    // worker spends the measurement re-reading 200k events beside the web server on the same cores.
    await store.groups.create(PROJECTIONS_GROUP, { startFrom: 'end' });
    await store.groups.create(PROCESS_MANAGER_GROUP, { filter: { eventTypes: [...PROCESS_MANAGER_EVENT_TYPES] }, startFrom: 'end' });
    await bookPatientReservations(deps, database.db);
    log('building the read models…');
    await rebuildProjections({ store, database, projections: allProjections, decryptor: vault });
    const [{ count }] = (await database.sql`select count(*)::int as count from es_events`) as unknown as [{ count: number }];
    log(`${count} events in the log`);
  } finally {
    await store.close();
    await database.close();
  }
  await buildIfStale(log);
  const baseUrl = `http://127.0.0.1:${options.port ?? PORT}`;
  // The web server refuses to start without its public origin (outside the embedded start).
  Object.assign(process.env, { SERVE_HOST: '127.0.0.1', AUTH_URL: baseUrl, ...options.serveEnv });
  const group = serveApp({ databaseUrl: url, dev: false, port: options.port ?? PORT, hostname: '127.0.0.1', log });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${baseUrl}/signin`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (i > 240) throw new Error('the server did not come up');
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    baseUrl,
    databaseUrl: url,
    secrets,
    stop: async () => {
      await group.stop(0);
      await scratch.drop();
    },
  };
}

/** Twenty consult-first bookings for the demo patient, on weekdays from tomorrow at Gangnam Glow. */
async function bookPatientReservations(deps: CommandDeps, db: ReturnType<typeof connect>['db']): Promise<void> {
  const [patient] = await db.select().from(users).where(eq(users.email, PATIENT_EMAIL)).limit(1);
  if (!patient) throw new Error(`${PATIENT_EMAIL} is not seeded`);
  // A command id of its own per booking (the hold's id derives from it).
  const meta = () => commandMetadata({ actor: { id: patient.id, role: 'patient' }, clinicId: 'gangnam-glow', commandId: randomUUID(), ip: '203.0.113.7', userAgent: 'bench' });
  let day = clinicDay(plusMinutes(new Date(), 24 * 60));
  let booked = 0;
  for (let guard = 0; booked < ME_RESERVATIONS && guard < 60; guard++) {
    for (const slot of ['11:00', '15:00']) {
      if (booked >= ME_RESERVATIONS) break;
      try {
        await bookReservation(
          deps,
          { reservationId: `r-${randomUUID()}`, clinicId: 'gangnam-glow', patientId: patient.id, treatmentId: 'gangnam-glow-botox-forehead', kind: 'consult-first', startsAt: atLocal(day, slot).toISOString() },
          meta(),
        );
        booked++;
      } catch (error) {
        // A closed day (Sunday): the next one. Anything else is a real failure.
        if ((error as { code?: string }).code !== 'booking.outside_opening_hours') throw error;
        break;
      }
    }
    day = clinicDay(plusMinutes(atLocal(day, '12:00'), 24 * 60));
  }
  if (booked < ME_RESERVATIONS) throw new Error(`only ${booked} reservations booked for the /me benchmark`);
  log(`${booked} reservations booked for ${PATIENT_EMAIL}`);
}

async function sessionCookie(server: BenchServer, email: string): Promise<string> {
  const database = connect(server.databaseUrl, { max: 1 });
  try {
    const [u] = await database.db.select().from(users).where(eq(users.email, email)).limit(1);
    const token = await encode({
      token: { sub: u!.id, role: u!.role, clinicId: u!.clinicId, name: u!.name, email: u!.email },
      secret: server.secrets.AUTH_SECRET,
      salt: 'authjs.session-token',
    });
    return `authjs.session-token=${token}`;
  } finally {
    await database.close();
  }
}

interface Run {
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
  errors: number;
}

async function hammer(url: string, headers: Record<string, string> = {}, seconds = SECONDS): Promise<Run> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

export async function runHttpBench(): Promise<Figure[]> {
  const loadBefore = os.loadavg()[0]!;
  const server = await startBenchServer({ scale: true });
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => figures.push({ name, value, unit });
  const notes: Record<string, unknown> = {};
  try {
    const tomorrow = clinicDay(plusMinutes(new Date(), 24 * 60));
    const pages: Array<{ name: string; path: string; headers?: Record<string, string> }> = [
      { name: 'page_clinic', path: `/clinics/gangnam-glow?treatment=gangnam-glow-botox-forehead&day=${tomorrow}` },
      { name: 'page_home', path: '/' },
      // For comparison: a small page through the same layout, proxy (CSP nonce) and header.
      { name: 'page_floor_signin', path: '/signin' },
    ];
    const cookie = await sessionCookie(server, PATIENT_EMAIL);
    const me = await fetch(`${server.baseUrl}/me`, { headers: { cookie }, redirect: 'manual' });
    if (me.status === 200) pages.push({ name: 'page_me', path: '/me', headers: { cookie } });
    else notes.page_me = `not measured: GET /me answered ${me.status}`;
    for (const page of pages) {
      const url = `${server.baseUrl}${page.path}`;
      const check = await fetch(url, { headers: page.headers, redirect: 'manual' });
      if (check.status !== 200) throw new Error(`${page.path} answered ${check.status}`);
      log(`${page.name}: warming up ${url}`);
      await hammer(url, page.headers, 3);
      const single = await autocannon({ url, connections: 1, duration: 5, headers: page.headers });
      log(`${page.name}: ${CONNECTIONS} connections for ${SECONDS} s…`);
      const run = await hammer(url, page.headers);
      add(`${page.name}_p99_ms`, round(run.p99, 1), 'ms');
      add(`${page.name}_p50_ms`, round(run.p50, 1), 'ms');
      add(`${page.name}_rps`, round(run.rps, 1), 'req/s');
      add(`${page.name}_p50_ms_1conn`, round(single.latency.p50, 1), 'ms');
      if (run.non2xx || run.errors) notes[page.name] = `${run.non2xx} non-2xx responses, ${run.errors} errors`;
    }
  } finally {
    await server.stop();
  }
  const machine = machineInfo({ nproc: os.cpus().length, loadAverage1mBefore: round(loadBefore, 2), loadAverage1mAfter: round(os.loadavg()[0]!, 2) });
  printTable(`HTTP pages (${CONNECTIONS} connections, ${CLINICS} clinics, ${EVENTS} events)`, figures);
  if (Object.keys(notes).length) console.log(notes);
  const file = writeResult('http', { machine: { ...machine, connections: CONNECTIONS, seconds: SECONDS, clinics: CLINICS, events: EVENTS, notes }, figures });
  log(`wrote ${file}`);
  return figures;
}

if (isMain(import.meta.url)) {
  await runHttpBench();
  process.exit(0);
}
