import type { clinic, schedule } from '../../domain';
import { RowCache, flushAll } from '../rows';
import { rmScheduleClinics, rmScheduleHolds, rmScheduleSlots, rmrevSchedule } from '../schema';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';
import { notifyPublicChange } from './catalogue';

type ClinicRow = typeof rmScheduleClinics.$inferSelect;
type HoldRow = typeof rmScheduleHolds.$inferSelect;
type SlotRow = typeof rmScheduleSlots.$inferSelect;

const slotId = (clinicId: string, day: string, slot: string) => `${clinicId}|${day}|${slot}`;

/**
 * The clinic-day schedule: live holds per slot (confirmed and pending) against the clinic's slot
 * capacity, so free capacity per slot is capacity − confirmed − pending holds not yet expired
 * (expiry is a matter of time, so lib/queries/schedule.ts discounts expired pending holds).
 */
export const scheduleProjection: Projection = {
  name: 'schedule',
  version: 1,
  streams: ['schedule-', 'clinic-'],
  eventTypes: ['ClinicRegistered', 'OpeningHoursSet', 'SlotConfigurationSet', 'SlotHeld', 'HoldConfirmed', 'SlotReleased'],
  revisions: rmrevSchedule,
  tables: [{ table: rmScheduleClinics }, { table: rmScheduleHolds }, { table: rmScheduleSlots }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const clinics = new RowCache<ClinicRow>(rmScheduleClinics, 'clinicId');
    const holds = new RowCache<HoldRow>(rmScheduleHolds, 'holdId');
    const slots = new RowCache<SlotRow>(rmScheduleSlots, 'id');
    const clinicIds = new Set<string>();
    const holdIds = new Set<string>();
    for (const { recorded, domain } of events) {
      const d = domain!.data as { holdId?: string; clinicId?: string };
      if (recorded.streamId.startsWith('clinic-')) clinicIds.add(recorded.streamId.slice('clinic-'.length));
      if (d.holdId) holdIds.add(d.holdId);
      if (domain!.type === 'SlotHeld') clinicIds.add(d.clinicId!);
    }
    await holds.load(tx, holdIds);
    for (const h of holds.loaded()) clinicIds.add(h.clinicId);
    await clinics.load(tx, clinicIds);
    const slotKeys = new Set<string>();
    for (const { domain } of events) {
      if (domain!.type === 'SlotHeld') {
        const d = (domain as schedule.ScheduleEvent & { type: 'SlotHeld' }).data;
        for (const s of d.slots) slotKeys.add(slotId(d.clinicId, d.day, s));
      }
    }
    for (const h of holds.loaded()) for (const s of h.slots) slotKeys.add(slotId(h.clinicId, h.day, s));
    await slots.load(tx, slotKeys);

    const bump = (hold: Pick<HoldRow, 'clinicId' | 'day' | 'slots'>, field: 'confirmed' | 'pending', by: number) => {
      const capacity = clinics.get(hold.clinicId)?.slotCapacity ?? 0;
      for (const s of hold.slots) {
        const id = slotId(hold.clinicId, hold.day, s);
        const row = slots.get(id) ?? { id, clinicId: hold.clinicId, day: hold.day, slot: s, capacity, confirmed: 0, pending: 0 };
        slots.put({ ...row, capacity, [field]: row[field] + by });
      }
    };

    for (const { recorded, domain } of events) {
      const e = domain as clinic.ClinicEvent | schedule.ScheduleEvent;
      if (recorded.streamId.startsWith('clinic-')) {
        const clinicId = recorded.streamId.slice('clinic-'.length);
        if (e.type === 'ClinicRegistered') {
          clinics.put({ clinicId, slotMinutes: e.data.slotLengthMinutes, slotCapacity: e.data.slotCapacity, openingHours: e.data.openingHours });
        } else if (e.type === 'OpeningHoursSet') {
          clinics.update(clinicId, { openingHours: e.data.openingHours });
        } else if (e.type === 'SlotConfigurationSet') {
          clinics.update(clinicId, { slotMinutes: e.data.slotLengthMinutes, slotCapacity: e.data.slotCapacity });
        }
        continue;
      }
      if (e.type === 'SlotHeld') {
        const d = e.data;
        const hold: HoldRow = {
          holdId: d.holdId,
          clinicId: d.clinicId,
          day: d.day,
          reservationId: d.reservationId,
          slots: d.slots,
          startsAt: new Date(d.startsAt),
          endsAt: new Date(d.endsAt),
          expiresAt: new Date(d.expiresAt),
          confirmed: false,
        };
        holds.put(hold);
        bump(hold, 'pending', 1);
      } else if (e.type === 'HoldConfirmed') {
        const hold = holds.get(e.data.holdId);
        if (!hold || hold.confirmed) continue;
        holds.put({ ...hold, confirmed: true });
        bump(hold, 'pending', -1);
        bump(hold, 'confirmed', 1);
      } else if (e.type === 'SlotReleased') {
        const hold = holds.get(e.data.holdId);
        if (!hold) continue;
        holds.delete(hold.holdId);
        bump(hold, hold.confirmed ? 'confirmed' : 'pending', -1);
      }
    }
    await flushAll(tx, clinics, holds, slots);
    // The public availability pages (lib/queries/availability.ts) drop these clinics' cached days.
    await notifyPublicChange(tx, 'schedule', clinicIds);
  },
};
