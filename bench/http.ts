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
 *   bookReservation), when the build has a /me page;
 * - page_today_* / page_board_*: /staff/gangnam-glow and its visit board, signed in as a staff member,
 *   on a busy day made through the commands (bench/staff-day.ts: 30 bookings, 14 visits on the board);
 * - board_update_*: a staff action → the change on other staff members' open boards over SSE;
 * - http_book_*: HTTP_BOOK_CLIENTS (default 50) signed-in patients booking through the booking form's
 *   server action, each booking checked in the event store and the read model (bench/book-http.ts);
 * - app_rss_mb / worker_rss_mb: resident memory of the web server's and the worker's Node processes,
 *   sampled every 250 ms across the whole run (peak; `_end` at its end; bench/rss.ts).
 * `--only=<names>` runs some of them (names: clinic, home, floor_signin, me, today, board, board_update, book;
 * `staff` = today, board, board_update) and merges its figures into the existing bench/results/http.json.
 * Every response must be 200 (non-2xx responses are counted and reported). Prints a table and writes
 * bench/results/http.json with the machine (cores, load average before and after).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import autocannon from 'autocannon';
import { eq } from 'drizzle-orm';
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
import { generateSecrets, type Secrets } from '@/lib/runtime/secrets';
import { sessionCookieOf } from '../scripts/lib/book-over-http';
import { buildIfStale } from '../scripts/lib/build';
import { prepareDatabase } from '../scripts/lib/prepare';
import { serveApp } from '../scripts/lib/serve';
import { measureHttpBooking } from './book-http';
import { isMain, machineInfo, printTable, resultFile, round, writeResult, type BenchResult, type Figure } from './lib';
import { findScriptProcess, sampleRss } from './rss';
import { measureBoardUpdates, prepareStaffDay, STAFF_CLINIC } from './staff-day';

const CLINICS = Number(process.env.HTTP_CLINICS ?? 50);
const EVENTS = Number(process.env.HTTP_EVENTS ?? 200_000);
const PORT = Number(process.env.HTTP_PORT ?? 3171);
const CONNECTIONS = Number(process.env.HTTP_CONNECTIONS ?? 10);
const SECONDS = Number(process.env.HTTP_SECONDS ?? 20);
const ME_RESERVATIONS = 20;
const PATIENT_EMAIL = 'minji@yeyak.example';
/** Plain staff (no manager flag): the desk's view. */
const STAFF_EMAIL = 'gangnam.nurse@yeyak.example';
const BOARD_ACTIONS = Number(process.env.HTTP_BOARD_ACTIONS ?? 200);
const OPEN_BOARDS = Number(process.env.HTTP_OPEN_BOARDS ?? 4);
/** Parallel lanes for seeding the generated history (the group commit fills its batches from many: 1M events take ≈ 90 s at 256, ≈ 12 min at 8). */
const SEED_LANES = Number(process.env.HTTP_SEED_LANES ?? 256);
const BOOK_CLIENTS = Number(process.env.HTTP_BOOK_CLIENTS ?? 50);
const BOOK_SECONDS = Number(process.env.HTTP_BOOK_SECONDS ?? SECONDS);
const log = (m: string) => console.log(`[bench:http] ${m}`);

export interface BenchServer {
  baseUrl: string;
  databaseUrl: string;
  secrets: Secrets;
  stop(): Promise<void>;
}

/** Appends in parallel lanes, each stream always in the same lane (so each stream stays in order). */
async function appendLanes(append: (a: Append) => Promise<unknown>, appends: Append[], lanes = SEED_LANES): Promise<void> {
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
  // Every secret the production server requires (lib/runtime/secrets.ts), fresh for this run.
  const secrets = generateSecrets();
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
    if (options.scale) {
      const [staff] = await database.db.select().from(users).where(eq(users.email, STAFF_EMAIL)).limit(1);
      if (!staff) throw new Error(`${STAFF_EMAIL} is not seeded`);
      await prepareStaffDay(deps, staff.id, log);
    }
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
    return await sessionCookieOf(u!, server.secrets.AUTH_SECRET);
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

const ALL = ['clinic', 'home', 'floor_signin', 'me', 'today', 'board', 'board_update', 'book'] as const;
type Part = (typeof ALL)[number];

/** `--only=a,b` (or `--only a,b`): which parts to run; `staff` = today, board, board_update. */
export function partsFrom(argv: readonly string[]): Set<Part> | null {
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i < 0) return null;
  const value = argv[i]!.includes('=') ? argv[i]!.slice('--only='.length) : (argv[i + 1] ?? '');
  const names = value.split(',').map((n) => n.trim()).filter(Boolean).flatMap((n) => (n === 'staff' ? ['today', 'board', 'board_update'] : [n]));
  const unknown = names.filter((n) => !(ALL as readonly string[]).includes(n));
  if (unknown.length || names.length === 0) throw new Error(`--only: unknown part(s) ${unknown.join(', ') || '(none)'}; known: ${ALL.join(', ')}, staff`);
  return new Set(names as Part[]);
}

export async function runHttpBench(only: Set<Part> | null = null): Promise<Figure[]> {
  const runs = (part: Part) => !only || only.has(part);
  const loadBefore = os.loadavg()[0]!;
  // HTTP_SERVE_NODE_OPTIONS: Node options for the served processes (e.g. a heap limit), to see what they do to the figures.
  const serveNodeOptions = process.env.HTTP_SERVE_NODE_OPTIONS;
  const server = await startBenchServer({ scale: true, ...(serveNodeOptions ? { serveEnv: { NODE_OPTIONS: serveNodeOptions } } : {}) });
  const source = buildSource();
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => figures.push({ name, value, unit });
  const notes: Record<string, unknown> = {};
  // Resident memory of the web server and the worker across every part of the run.
  const web = findScriptProcess('scripts/web-server.ts');
  const worker = findScriptProcess('lib/worker/main.ts');
  const rss = web && worker ? sampleRss({ app: web, worker }) : null;
  if (!rss) notes.rss = `not measured: processes not found (web ${web?.main ?? 'none'}, worker ${worker?.main ?? 'none'})`;
  try {
    const tomorrow = clinicDay(plusMinutes(new Date(), 24 * 60));
    const pages: Array<{ name: string; path: string; headers?: Record<string, string> }> = [];
    if (runs('clinic')) pages.push({ name: 'page_clinic', path: `/clinics/gangnam-glow?treatment=gangnam-glow-botox-forehead&day=${tomorrow}` });
    if (runs('home')) pages.push({ name: 'page_home', path: '/' });
    // For comparison: a small page through the same layout, proxy (CSP nonce) and header.
    if (runs('floor_signin')) pages.push({ name: 'page_floor_signin', path: '/signin' });
    if (runs('me')) {
      const cookie = await sessionCookie(server, PATIENT_EMAIL);
      const me = await fetch(`${server.baseUrl}/me`, { headers: { cookie }, redirect: 'manual' });
      if (me.status === 200) pages.push({ name: 'page_me', path: '/me', headers: { cookie } });
      else notes.page_me = `not measured: GET /me answered ${me.status}`;
    }
    const staffCookie = await sessionCookie(server, STAFF_EMAIL);
    if (runs('today')) pages.push({ name: 'page_today', path: `/staff/${STAFF_CLINIC}`, headers: { cookie: staffCookie } });
    if (runs('board')) pages.push({ name: 'page_board', path: `/staff/${STAFF_CLINIC}/board`, headers: { cookie: staffCookie } });
    if (runs('today') || runs('board')) await billsAsked(server);
    for (const page of pages) {
      const url = `${server.baseUrl}${page.path}`;
      const check = await fetch(url, { headers: page.headers, redirect: 'manual' });
      if (check.status !== 200) throw new Error(`${page.path} answered ${check.status}`);
      rss?.mark(page.name);
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
    if (runs('board_update')) {
      rss?.mark('board_update');
      const database = connect(server.databaseUrl, { max: 4 });
      const store = await createEventStore({ databaseUrl: server.databaseUrl, hmacKey: server.secrets.EVENT_HMAC_KEY, maxConnections: 4 });
      try {
        const deps = commandDepsFor(database.sql, store, server.secrets.PERSONAL_DATA_MASTER_KEY);
        const [staff] = await database.db.select().from(users).where(eq(users.email, STAFF_EMAIL)).limit(1);
        const updates = await measureBoardUpdates({ deps, baseUrl: server.baseUrl, cookie: staffCookie, staffId: staff!.id, actions: BOARD_ACTIONS, boards: OPEN_BOARDS, log });
        add('board_update_p99_ms', updates.p99, 'ms');
        add('board_update_p50_ms', updates.p50, 'ms');
        add('board_update_max_ms', updates.max, 'ms');
        add('board_update_samples', updates.samples, 'arrivals');
        if (updates.missed) notes.board_update = `${updates.missed} arrivals missed (not within 5 s)`;
      } finally {
        await store.close();
        await database.close();
      }
    }
    if (runs('book')) {
      rss?.mark('book');
      const book = await measureHttpBooking({ server, clients: BOOK_CLIENTS, seconds: BOOK_SECONDS, log });
      add('http_book_per_s', book.perSecond, 'bookings/s');
      add('http_book_p50_ms', book.p50, 'ms');
      add('http_book_p99_ms', book.p99, 'ms');
      add('http_book_max_ms', book.max, 'ms');
      add('http_book_errors', book.errors, 'answers');
      add('http_book_slot_full', book.slotFull, 'answers');
      add('http_book_processing', book.processing, 'answers');
      add('http_book_verified', book.verified, 'bookings');
      const { otherSamples, ...counts } = book;
      notes.book = { ...counts, ...(otherSamples.length ? { otherSamples } : {}) };
    }
  } finally {
    if (rss) {
      const memory = rss.stop();
      add('app_rss_mb', round(memory.app!.peakMiB, 0), 'MiB');
      add('app_rss_end_mb', round(memory.app!.endMiB, 0), 'MiB');
      add('worker_rss_mb', round(memory.worker!.peakMiB, 0), 'MiB');
      add('worker_rss_end_mb', round(memory.worker!.endMiB, 0), 'MiB');
      notes.rss = {
        samples: memory.app!.samples,
        everyMs: 250,
        pids: { app: web!.main, worker: worker!.main },
        // The tsx launcher above each process and its esbuild service (not in the figures).
        launcherAndHelpersPeakMiB: { app: round(memory.app!.othersPeakMiB, 0), worker: round(memory.worker!.othersPeakMiB, 0) },
        peakByPartMiB: { app: memory.app!.peakByPartMiB, worker: memory.worker!.peakByPartMiB },
      };
    }
    await server.stop();
  }
  const machine = machineInfo({ nproc: os.cpus().length, loadAverage1mBefore: round(loadBefore, 2), loadAverage1mAfter: round(os.loadavg()[0]!, 2) });
  printTable(`HTTP pages (${CONNECTIONS} connections, ${CLINICS} clinics, ${EVENTS} events)`, figures);
  if (Object.keys(notes).length) console.log(notes);
  const run = { ...machine, ...source, ...(serveNodeOptions ? { serveNodeOptions } : {}), connections: CONNECTIONS, seconds: SECONDS, bookClients: BOOK_CLIENTS, bookSeconds: BOOK_SECONDS, clinics: CLINICS, events: EVENTS, notes };
  const file = only ? mergeResult('http', figures, { ...run, parts: [...only], figures: figures.map((f) => f.name) }) : writeResult('http', { machine: run, figures });
  log(`wrote ${file}`);
  return figures;
}

/** What the served build was made from: the commit, and the build's inputs changed but not committed (the tree is shared). */
function buildSource(): { commit: string; uncommitted: string[] } {
  const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  try {
    const uncommitted = git(['status', '--porcelain', '--', 'app', 'lib', 'proxy.ts', 'next.config.js']).split('\n').filter(Boolean).filter((l) => !/\.test\.tsx?$/.test(l));
    return { commit: git(['rev-parse', '--short', 'HEAD']), uncommitted };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}

/** The board's discharged cards show bills: wait until the worker's process managers have asked them. */
async function billsAsked(server: BenchServer): Promise<void> {
  const database = connect(server.databaseUrl, { max: 1 });
  try {
    for (let i = 0; i < 120; i++) {
      const [{ n }] = (await database.sql`select count(*)::int as n from rm_payments where purpose = 'bill' and clinic_id = ${STAFF_CLINIC}`) as unknown as [{ n: number }];
      if (n >= 3) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    log('warning: the staff day\'s bills were not asked within 60 s');
  } finally {
    await database.close();
  }
}

/** A partial run (--only): its figures replace those of the same name in the result file; the rest stay, with the run's machine noted per part. */
function mergeResult(name: string, figures: Figure[], run: Record<string, unknown>): string {
  const file = resultFile(name);
  const previous: BenchResult = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResult) : { machine: {}, figures: [] };
  const names = new Set(figures.map((f) => f.name));
  const partialRuns = [...(((previous.machine as { partialRuns?: unknown[] }).partialRuns ?? []) as unknown[]), run].slice(-5);
  return writeResult(name, { machine: { ...previous.machine, partialRuns }, figures: [...previous.figures.filter((f) => !names.has(f.name)), ...figures] });
}

if (isMain(import.meta.url)) {
  await runHttpBench(partsFrom(process.argv.slice(2)));
  process.exit(0);
}
