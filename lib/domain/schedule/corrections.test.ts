/** Schedule rules corrected by issue 8's review (given/when/then). */
import { describe, it } from 'vitest';
import { BookingInsideMinimumNoticeError } from '../clinic/errors';
import { clinicEvent } from '../clinic/events';
import { CLINIC_ID, clinicHistory, clinicState, monday, POLICY } from '../clinic/fixtures';
import { spec } from '../shared/testing';
import { scheduleDecider, scheduleEvent as ev, type ScheduleCommand } from './index';

const { given } = spec(scheduleDecider);
// The clinic now asks 72 h of notice; a reservation made under the old policy froze 2 h.
const strict = clinicState([...clinicHistory, clinicEvent('CancellationPolicySet', { policy: { ...POLICY, minimumNoticeHours: 72 }, previousPolicy: POLICY })]);
const now = new Date('2025-03-03T00:00:00Z'); // Monday 09:00 Seoul
const move = (extra: Partial<Extract<ScheduleCommand, { type: 'PlaceHold' }>> = {}): ScheduleCommand => ({
  type: 'PlaceHold',
  clinicId: CLINIC_ID,
  day: '2025-03-03',
  holdId: 'h2',
  reservationId: 'r1',
  startsAt: monday('14:00'),
  durationMinutes: 30,
  ...extra,
});

describe('the reschedule notice check on the clinic day uses the policy frozen in the reservation', () => {
  it('given a clinic now asking 72 h, when a reservation that froze 2 h moves to 5 h ahead, then the day holds the new slot', () => {
    given([])
      .when(move({ minimumNoticeHours: 2 }), { now, clinic: strict, holdTtlMinutes: 15 })
      .then([
        ev('SlotHeld', {
          clinicId: CLINIC_ID,
          day: '2025-03-03',
          holdId: 'h2',
          reservationId: 'r1',
          startsAt: '2025-03-03T05:00:00.000Z',
          endsAt: '2025-03-03T05:30:00.000Z',
          slots: ['14:00'],
          slotLengthMinutes: 30,
          expiresAt: '2025-03-03T00:15:00.000Z',
        }),
      ]);
  });

  it('given the same clinic, when the frozen 2 h is not met (1 h ahead), then the move is refused', () => {
    given([]).when(move({ startsAt: monday('10:00'), minimumNoticeHours: 2 }), { now, clinic: strict }).thenThrows(BookingInsideMinimumNoticeError);
  });

  it('given the same clinic, when a new booking (no frozen notice) asks 5 h ahead, then the current 72 h applies', () => {
    given([]).when(move(), { now, clinic: strict }).thenThrows(BookingInsideMinimumNoticeError, { details: { minimumNoticeHours: 72 } });
  });
});
