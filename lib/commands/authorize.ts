/**
 * The command side's one policy step (issue 8, "authorisation where the data is"). Every handler
 * calls `authorize` with the entity it is about to touch (its clinic, its patient) BEFORE anything is
 * appended: a patient acts only on their own data, staff only in their own clinic, auditors never
 * write, the system actor (process managers, timers, seed) may do anything.
 *
 * The acting user is `meta.actor` ({ id, role }); for staff, `meta.clinicId` is their own clinic,
 * set from the session by `userCommandMetadata` (never from a form).
 *
 *   // a new entity: the subject comes from the input
 *   authorize(meta, 'BookReservation', { clinicId: input.clinicId, patientId: input.patientId }, ['patient', 'staff']);
 *   // an existing entity: the subject comes from the loaded state — pass `authorizeOn` as `run`'s
 *   // last argument; it runs after loading the stream, before the idempotency check and the decision:
 *   run(deps, payment.paymentDecider, streamId, command, meta, undefined,
 *       authorizeOn(meta, 'RefundPayment', ['staff', 'admin'], (s) => (s.status === 'none' ? null : { clinicId: s.clinicId, patientId: s.patientId })))
 *   // a multi-step command that loads the entity itself calls `authorize` before its first append.
 */
import type { CommandMetadata } from './metadata';
import { ForbiddenError } from './errors';

/**
 * The roles a command may allow besides the system actor (who may always act). Auditors never write.
 * 'manager': staff whose session says they manage their clinic (meta.clinicManager); 'staff' includes them.
 */
export type WriterRole = 'patient' | 'staff' | 'manager' | 'admin';

/** What the command touches. A patient must be its `patientId`; staff must belong to its `clinicId`. */
export interface Subject {
  readonly clinicId?: string | null;
  readonly patientId?: string | null;
}

export const SYSTEM_ROLE = 'system';

/**
 * Throws ForbiddenError unless `meta.actor` may run `command` on `subject`:
 * - role `system`: always (process managers, timers, the seed);
 * - a role not in `allow` (auditors always): refused;
 * - `patient`: the subject's patientId must be the actor's id;
 * - `staff`: the subject's clinicId must be `meta.clinicId` (their own clinic, from the session);
 *   where only `manager` is allowed, they must also manage it (`meta.clinicManager`);
 * - `admin` (the platform operator): wherever allowed.
 */
export function authorize(meta: CommandMetadata, command: string, subject: Subject, allow: readonly WriterRole[]): void {
  const { actor } = meta;
  if (actor.role === SYSTEM_ROLE) return;
  const refuse = (why: string): never => {
    throw new ForbiddenError(`${actor.role} ${actor.id} may not ${command}: ${why}`, {
      command,
      actorId: actor.id,
      role: actor.role,
      ...(subject.clinicId ? { clinicId: subject.clinicId } : {}),
      ...(subject.patientId ? { patientId: subject.patientId } : {}),
    });
  };
  const asManager = actor.role === 'staff' && !allow.includes('staff') && allow.includes('manager');
  if (asManager && meta.clinicManager !== true) refuse('not a manager of the clinic');
  if (!asManager && !(allow as readonly string[]).includes(actor.role)) refuse(`not allowed for the ${actor.role} role`);
  switch (actor.role) {
    case 'patient':
      if (!subject.patientId || subject.patientId !== actor.id) refuse('not their own');
      return;
    case 'staff':
      if (!meta.clinicId || !subject.clinicId || subject.clinicId !== meta.clinicId) refuse('not their clinic');
      return;
    case 'admin':
      return;
    default:
      refuse('unknown role');
  }
}

/**
 * The same check for an existing entity, as `run`'s `authorize` argument: `subjectOf` picks clinic
 * and patient out of the loaded state (a command creating the entity returns the input's). `null`
 * means there is nothing there yet and the command does not create it: the decider refuses with
 * `<thing>.not_found`, nothing is appended and nobody's data is shown.
 */
export function authorizeOn<S>(
  meta: CommandMetadata,
  command: string,
  allow: readonly WriterRole[],
  subjectOf: (state: S) => Subject | null,
): (state: S) => void {
  return (state) => {
    const subject = subjectOf(state);
    if (subject === null) return;
    authorize(meta, command, subject, allow);
  };
}

/**
 * Who a reservation command says acted (`by`) and the staff id it records must be the actor:
 * a patient cannot claim `by: 'staff'` (which would waive fees), staff record their own id.
 * Returns the staff id to record (the actor's own for staff; as given for the system actor).
 */
export function actingStaffId(meta: CommandMetadata, command: string, by: 'patient' | 'staff' | undefined, staffId: string | undefined): string | undefined {
  const { actor } = meta;
  if (actor.role === SYSTEM_ROLE) return staffId;
  const refuse = (why: string): never => {
    throw new ForbiddenError(`${actor.role} ${actor.id} may not ${command}: ${why}`, { command, actorId: actor.id, role: actor.role });
  };
  if (by === 'staff' && actor.role !== 'staff' && actor.role !== 'admin') refuse('only staff act as staff');
  if (by === 'patient' && actor.role !== 'patient') refuse('only the patient acts as the patient');
  if (actor.role === 'staff') {
    if (staffId !== undefined && staffId !== actor.id) refuse('staff act under their own id');
    return actor.id;
  }
  return staffId;
}
