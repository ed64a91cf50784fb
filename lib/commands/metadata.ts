/**
 * Command metadata: who asked, from where, and which command / conversation an event belongs to
 * (DESIGN §3 envelope). Built once by the caller (a server action, a script, a process manager)
 * and copied into every event the command appends.
 */
import { createHash } from 'node:crypto';
import type { Actor, EventMetadata, RecordedEvent } from '../eventstore';
import { newEventId } from '../eventstore';

export interface CommandMetadata {
  readonly actor: Actor;
  /** The clinic the actor acts for (staff) or acts at (patient booking); null when none applies. */
  readonly clinicId: string | null;
  /**
   * Staff only, from the session: a manager of `clinicId` (authorize's 'manager' writer role). Present
   * only when true; not copied into events (the actor's role stays 'staff' there).
   */
  readonly clinicManager?: true;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** Idempotency key: the same command id twice appends once and returns the first result. */
  readonly commandId: string;
  /** The conversation (a booking and every follow-up the process managers send for it). */
  readonly correlationId: string;
  /** What caused this command: the triggering event's id, or the command itself for a user's command. */
  readonly causationId: string;
}

export interface CommandMetadataInput {
  actor: Actor;
  clinicId?: string | null;
  clinicManager?: boolean;
  ip?: string | null;
  userAgent?: string | null;
  /** Give the id the form/request carried (so a double submit is one command); generated when omitted. */
  commandId?: string;
  correlationId?: string | null;
  causationId?: string | null;
}

/**
 * The metadata of a user's command. Server actions call it with the session's actor, the request's
 * IP and user agent (see `requestInfo`) and the command id the form submitted:
 *
 *   const meta = commandMetadata({ actor: { id: user.id, role: user.role }, clinicId, ...requestInfo(await headers()), commandId: form.commandId });
 */
export function commandMetadata(input: CommandMetadataInput): CommandMetadata {
  if (!input.actor?.id || !input.actor.role) throw new TypeError('commandMetadata needs an actor with id and role');
  const commandId = input.commandId ?? newEventId();
  return {
    actor: { id: input.actor.id, role: input.actor.role },
    clinicId: input.clinicId ?? null,
    ...(input.clinicManager && input.actor.role === 'staff' ? { clinicManager: true as const } : {}),
    ip: input.ip ?? null,
    userAgent: input.userAgent ?? null,
    commandId,
    correlationId: input.correlationId ?? commandId,
    causationId: input.causationId ?? commandId,
  };
}

/**
 * A step of a multi-stream command (`booking/hold`, `booking/reserve`…): its own command id, derived,
 * so each step is idempotent on its stream and a retry of the whole command skips the steps done.
 */
export function subCommand(meta: CommandMetadata, step: string): CommandMetadata {
  return { ...meta, commandId: `${meta.commandId}/${step}` };
}

/** The actor of process managers and timers. */
export const SYSTEM_ACTOR: Actor = { id: 'system:process-manager', role: 'system' };

/**
 * The metadata of a process manager's reaction to `event`: a command id derived from the event id
 * and the reaction's name (so a redelivered event sends the same command, which appends nothing),
 * the event's correlation id, and the event as causation.
 */
export function followUpMetadata(event: Pick<RecordedEvent, 'eventId' | 'metadata'>, reaction: string, actor: Actor = SYSTEM_ACTOR): CommandMetadata {
  return {
    actor,
    clinicId: event.metadata.clinicId ?? null,
    ip: null,
    userAgent: null,
    commandId: `${event.eventId}/${reaction}`,
    correlationId: event.metadata.correlationId ?? event.eventId,
    causationId: event.eventId,
  };
}

/** What goes into every event a command appends. */
export function eventMetadata(meta: CommandMetadata, commandType: string, occurredAt: Date): EventMetadata {
  return {
    actor: meta.actor,
    occurredAt: occurredAt.toISOString(),
    commandId: meta.commandId,
    commandType,
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    clinicId: meta.clinicId,
    ip: meta.ip,
    userAgent: meta.userAgent,
  };
}

/**
 * A short deterministic id (valid as a domain Id: [A-Za-z0-9_.:-], ≤ 100 chars) derived from parts,
 * e.g. the hold of a booking command or the refund of a cancellation event.
 */
export function derivedId(prefix: string, ...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
  return `${prefix}-${digest}`;
}

/** Who is acting, as the server's session knows them (never as a form says). */
export interface ActingUser {
  readonly id: string;
  readonly role: string;
  /** Staff only: their own clinic. */
  readonly clinicId: string | null;
  /** Staff only: a manager of that clinic (SessionUser.isClinicManager). */
  readonly isClinicManager?: boolean;
}

/**
 * The metadata of a signed-in user's command. For staff, `clinicId` is always their own clinic
 * from the session: the command layer checks the entity's clinic against it. For a patient it is
 * the clinic they act at (the booking's), recorded for the audit trail only.
 */
export function userCommandMetadata(
  user: ActingUser,
  origin: { ip: string | null; userAgent: string | null },
  input: { commandId?: string; clinicId?: string | null; correlationId?: string | null } = {},
): CommandMetadata {
  return commandMetadata({
    actor: { id: user.id, role: user.role },
    clinicId: user.role === 'staff' ? user.clinicId : (input.clinicId ?? null),
    clinicManager: user.role === 'staff' && user.isClinicManager === true,
    ip: origin.ip,
    userAgent: origin.userAgent,
    ...(input.commandId === undefined ? {} : { commandId: input.commandId }),
    correlationId: input.correlationId ?? null,
  });
}
