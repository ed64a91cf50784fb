import type { Decider } from '../shared/decider';
import { ScheduleCommand } from './commands';
import { decideSchedule, type ScheduleContext } from './decide';
import { ScheduleEvent, upcastScheduleEvent } from './events';
import { evolveSchedule, initialScheduleState, type ScheduleState } from './state';

export * from './commands';
export * from './decide';
export * from './errors';
export * from './events';
export * from './state';

export const scheduleDecider: Decider<ScheduleCommand, ScheduleEvent, ScheduleState, ScheduleContext> = {
  name: 'schedule',
  decide: decideSchedule,
  evolve: evolveSchedule,
  initialState: initialScheduleState,
  commandSchema: ScheduleCommand,
  eventSchema: ScheduleEvent,
  upcast: upcastScheduleEvent,
};
