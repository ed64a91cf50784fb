/**
 * The front desk's no-show (issue 9, payments): RecordNoShow after the clinic's grace period
 * (`noShowGraceMinutes`, default 15, lib/domain/clinic) — a patient a few minutes late is not a
 * no-show yet. Before it: `reservation.no_show_within_grace`, nothing appended. What is forfeited is
 * the reservation's frozen policy's (the decider), the refund of the rest the process managers'.
 *
 * Why here and not in the reservation decider: the grace is a clinic setting read at decision time
 * (like the booking horizon), so the handler loads the clinic and checks it before the decision.
 */
import { NotFoundError, reservation, streams } from '../domain';
import { assertNoShowGraceOver } from '../domain/clinic';
import type { ActiveReservation } from '../domain/reservation';
import { authorize } from './authorize';
import { loadClinic, nowOf, type CommandDeps } from './deps';
import { loadStream } from './handle';
import type { CommandMetadata } from './metadata';
import { recordNoShow } from './reservation';

export async function recordNoShowAfterGrace(deps: CommandDeps, input: { reservationId: string; staffId: string }, meta: CommandMetadata) {
  const loaded = await loadStream(deps.store, reservation.reservationDecider, streams.reservation(input.reservationId));
  if (loaded.state.status === 'none') throw new NotFoundError('reservation', { reservationId: input.reservationId });
  const r = loaded.state as ActiveReservation;
  // The policy step first: another clinic's staff learn nothing about this booking's times.
  authorize(meta, 'RecordNoShow', { clinicId: r.clinicId, patientId: r.patientId }, ['staff']);
  // Recorded already: the retried form gets the same (empty) answer from the decider.
  if (r.status !== 'no-show') assertNoShowGraceOver(await loadClinic(deps, r.clinicId), r.startsAt, nowOf(deps));
  return recordNoShow(deps, input, meta);
}
