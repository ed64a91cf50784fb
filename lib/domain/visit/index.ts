import type { Decider } from '../shared/decider';
import { VisitCommand } from './commands';
import { decideVisit, type VisitContext } from './decide';
import { upcastVisitEvent, VisitEvent } from './events';
import { evolveVisit, initialVisitState, type VisitState } from './state';

export * from './commands';
export * from './decide';
export * from './errors';
export * from './events';
export * from './state';

export const visitDecider: Decider<VisitCommand, VisitEvent, VisitState, VisitContext> = {
  name: 'visit',
  decide: decideVisit,
  evolve: evolveVisit,
  initialState: initialVisitState,
  commandSchema: VisitCommand,
  eventSchema: VisitEvent,
  upcast: upcastVisitEvent,
};
