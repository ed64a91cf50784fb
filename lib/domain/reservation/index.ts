import type { Decider } from '../shared/decider';
import { ReservationCommand } from './commands';
import { decideReservation, type ReservationContext } from './decide';
import { ReservationEvent, upcastReservationEvent } from './events';
import { evolveReservation, initialReservationState, type ReservationState } from './state';

export * from './commands';
export * from './decide';
export * from './errors';
export * from './events';
export * from './state';

export const reservationDecider: Decider<ReservationCommand, ReservationEvent, ReservationState, ReservationContext> = {
  name: 'reservation',
  decide: decideReservation,
  evolve: evolveReservation,
  initialState: initialReservationState,
  commandSchema: ReservationCommand,
  eventSchema: ReservationEvent,
  upcast: upcastReservationEvent,
};
