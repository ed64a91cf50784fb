/**
 * The staff side of the HTTP benchmark (bench/http.ts): a busy day at Gangnam Glow for Today and the
 * visit board, and `board_update`, the time from a staff member's action to the change arriving on
 * other staff members' open boards over server-sent events (real SSE clients on the production server).
 */
import { randomUUID } from 'node:crypto';
import {
  addTreatment,
  bookReservation,
  checkInReservation,
  commandMetadata,
  confirmReservation,
  derivedId,
  discharge,
  recordArrival,
  registerPatient,
  revertStage,
  startConsultation,
  startProcedure,
  startRecovery,
  type CommandDeps,
  type CommandMetadata,
} from '@/lib/commands';
import { atLocal, clinicDay } from '@/lib/domain';
import { percentile, round } from './lib';

export const STAFF_CLINIC = 'gangnam-glow';
const TREATMENTS = ['gangnam-glow-botox-forehead', 'gangnam-glow-nose-filler', 'gangnam-glow-laser-toning'];
/** Consult-first bookings across the day; a slot holds 3. */
const BOOKINGS = 30;

const asStaff = (staffId: string): CommandMetadata => commandMetadata({ actor: { id: staffId, role: 'staff' }, clinicId: STAFF_CLINIC, commandId: randomUUID(), ip: '203.0.113.9', userAgent: 'bench' });

/**
 * Today at Gangnam Glow as a busy desk sees it, through the commands: 30 patients booked across the
 * day's slots (with a command clock early today, so any time of day works), 6 still waiting for the
 * clinic, 24 confirmed; 14 checked in and spread over the board's stages with treatments added (3 of
 * them discharged, so the process managers ask their bills). Returns the day.
 */
export async function prepareStaffDay(deps: CommandDeps, staffId: string, log: (m: string) => void): Promise<string> {
  const day = clinicDay(new Date());
  let now = atLocal(day, '07:00');
  const at = { ...deps, clock: () => now };
  const booked: string[] = [];
  const times = Array.from({ length: 18 }, (_, i) => `${String(10 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`);
  for (let i = 0; booked.length < BOOKINGS && i < BOOKINGS * 3; i++) {
    const patientId = `bench-staff-p-${i}`;
    if (i < BOOKINGS) {
      await registerPatient(at, { patientId, name: `환자 ${i + 1} Patient ${i + 1}`, phone: `010-5555-${String(1000 + i)}`, birthDate: '1990-01-01', email: `bench-staff-${i}@example.com` }, commandMetadata({ actor: { id: patientId, role: 'patient' } }));
    }
    const reservationId = `bench-staff-r-${i}`;
    try {
      await bookReservation(
        at,
        { reservationId, clinicId: STAFF_CLINIC, patientId: `bench-staff-p-${i % BOOKINGS}`, treatmentId: TREATMENTS[i % TREATMENTS.length]!, kind: 'consult-first', startsAt: atLocal(day, times[i % times.length]!).toISOString() },
        commandMetadata({ actor: { id: `bench-staff-p-${i % BOOKINGS}`, role: 'patient' }, clinicId: STAFF_CLINIC, commandId: randomUUID() }),
      );
      booked.push(reservationId);
    } catch (error) {
      // A full slot or a closed hour (a lunch break): the next one. Anything else is a real failure.
      const code = String((error as { code?: string }).code ?? '');
      if (!code.startsWith('booking.') && code !== 'schedule.slot_over_capacity') throw error;
    }
  }
  if (booked.length < 20) throw new Error(`only ${booked.length} bookings at ${STAFF_CLINIC} on ${day} (closed today?)`);
  const confirmed = booked.slice(6);
  for (const reservationId of confirmed) await confirmReservation(at, { reservationId, staffId }, asStaff(staffId));
  const stages: Array<'arrived' | 'consultation' | 'procedure' | 'recovery' | 'discharged'> = ['arrived', 'arrived', 'arrived', 'consultation', 'consultation', 'consultation', 'procedure', 'procedure', 'procedure', 'recovery', 'recovery', 'discharged', 'discharged', 'discharged'];
  for (const [i, stage] of stages.entries()) {
    const reservationId = confirmed[i]!;
    const visitId = derivedId('visit', reservationId);
    now = atLocal(day, times[i]!);
    await checkInReservation(at, { reservationId, visitId, staffId }, asStaff(staffId));
    if (stage === 'arrived') continue;
    await startConsultation(at, { visitId, staffId }, asStaff(staffId));
    await addTreatment(at, { visitId, lineId: 'l1', treatmentId: TREATMENTS[i % TREATMENTS.length]!, staffId }, asStaff(staffId));
    if (stage === 'consultation') continue;
    await startProcedure(at, { visitId, staffId }, asStaff(staffId));
    if (stage === 'procedure') continue;
    await startRecovery(at, { visitId, staffId }, asStaff(staffId));
    if (stage === 'recovery') continue;
    await discharge(at, { visitId, staffId }, asStaff(staffId));
  }
  log(`staff day ${day} at ${STAFF_CLINIC}: ${booked.length} bookings, ${confirmed.length} confirmed, ${stages.length} visits on the board`);
  return day;
}

/** One open board: an SSE client on the board's event stream, recording when each `changed` event arrives. */
class BoardClient {
  readonly arrivals: number[] = [];
  private readonly controller = new AbortController();
  ready: Promise<void>;

  constructor(url: string, cookie: string) {
    let ready!: () => void;
    this.ready = new Promise((r) => (ready = r));
    void (async () => {
      const response = await fetch(url, { headers: { cookie, accept: 'text/event-stream' }, signal: this.controller.signal });
      if (response.status !== 200 || !response.body) throw new Error(`board events answered ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (\w+)/m.exec(block)?.[1];
          if (event === 'ready' || event === 'changed') ready();
          if (event === 'changed') this.arrivals.push(performance.now());
        }
      }
    })().catch((error: unknown) => {
      if (!this.controller.signal.aborted) console.error('[bench:http] board client:', error);
    });
  }

  close(): void {
    this.controller.abort();
  }
}

/**
 * `board_update_*`: `boards` staff members' boards open over SSE; one staff member's actions (a walk-in
 * moved forward and back between consultation and procedure, a revert with its reason every other
 * time) run one at a time, each timed from just before the command is sent (the server action's
 * command; the action's own HTTP round trip is not in it) until the change's `changed` event has
 * reached every open board. Pauses between actions so they do not queue behind one another.
 */
export async function measureBoardUpdates(options: { deps: CommandDeps; baseUrl: string; cookie: string; staffId: string; actions: number; boards: number; log: (m: string) => void }) {
  const { deps, baseUrl, cookie, staffId, actions, boards, log } = options;
  const day = clinicDay(new Date());
  const visitId = `bench-board-${randomUUID()}`;
  await recordArrival(deps, { visitId, clinicId: STAFF_CLINIC, patientId: 'bench-staff-p-0', staffId }, asStaff(staffId));
  await startConsultation(deps, { visitId, staffId }, asStaff(staffId));
  await new Promise((r) => setTimeout(r, 1000));
  const clients = Array.from({ length: boards }, () => new BoardClient(`${baseUrl}/api/staff/${STAFF_CLINIC}/board/events?day=${day}`, cookie));
  try {
    await Promise.all(clients.map((c) => c.ready));
    await new Promise((r) => setTimeout(r, 1000)); // anything still in flight from the set-up arrives first
    const samples: number[] = [];
    let missed = 0;
    let inProcedure = false;
    for (let i = 0; i < actions; i++) {
      const counts = clients.map((c) => c.arrivals.length);
      const started = performance.now();
      if (inProcedure) await revertStage(deps, { visitId, staffId, reason: `bench revert ${i}` }, asStaff(staffId));
      else await startProcedure(deps, { visitId, staffId }, asStaff(staffId));
      inProcedure = !inProcedure;
      const deadline = started + 5000;
      while (clients.some((c, k) => c.arrivals.length === counts[k]) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      for (const [k, c] of clients.entries()) {
        if (c.arrivals.length === counts[k]) missed++;
        else samples.push(c.arrivals[counts[k]!]! - started);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    log(`board updates: ${actions} actions, ${boards} open boards, ${samples.length} arrivals, ${missed} missed (5 s)`);
    return {
      p50: round(percentile(samples, 50), 1),
      p99: round(percentile(samples, 99), 1),
      max: round(Math.max(...samples), 1),
      samples: samples.length,
      missed,
    };
  } finally {
    for (const c of clients) c.close();
  }
}
