import { describe, expect, it } from 'vitest';
import { actingStaffId, authorize, authorizeOn } from './authorize';
import { ForbiddenError } from './errors';
import { commandMetadata, SYSTEM_ACTOR } from './metadata';

const patient = commandMetadata({ actor: { id: 'pat-1', role: 'patient' }, clinicId: 'c-1' });
const staff = commandMetadata({ actor: { id: 'staff-1', role: 'staff' }, clinicId: 'c-1' });
const manager = commandMetadata({ actor: { id: 'staff-2', role: 'staff' }, clinicId: 'c-1', clinicManager: true });
const staffNoClinic = commandMetadata({ actor: { id: 'staff-1', role: 'staff' } });
const auditor = commandMetadata({ actor: { id: 'aud-1', role: 'auditor' } });
const admin = commandMetadata({ actor: { id: 'adm-1', role: 'admin' } });
const system = commandMetadata({ actor: SYSTEM_ACTOR });
const mine = { clinicId: 'c-1', patientId: 'pat-1' };
const foreign = { clinicId: 'c-2', patientId: 'pat-2' };

describe('authorize (the command policy step)', () => {
  it('a patient acts on their own data only', () => {
    expect(() => authorize(patient, 'X', mine, ['patient'])).not.toThrow();
    expect(() => authorize(patient, 'X', { ...mine, patientId: 'pat-2' }, ['patient'])).toThrow(ForbiddenError);
    expect(() => authorize(patient, 'X', { clinicId: 'c-1' }, ['patient'])).toThrow(ForbiddenError);
  });
  it('staff act in their own clinic only, and only with a clinic from the session', () => {
    expect(() => authorize(staff, 'X', mine, ['staff'])).not.toThrow();
    expect(() => authorize(staff, 'X', foreign, ['staff'])).toThrow(ForbiddenError);
    expect(() => authorize(staffNoClinic, 'X', mine, ['staff'])).toThrow(ForbiddenError);
    expect(() => authorize(staff, 'X', { patientId: 'pat-1' }, ['staff'])).toThrow(ForbiddenError);
  });
  it("a manager-only command: the clinic's manager, not its plain staff nor another clinic's manager; a manager is staff too", () => {
    expect(() => authorize(manager, 'X', mine, ['manager', 'admin'])).not.toThrow();
    expect(() => authorize(staff, 'X', mine, ['manager', 'admin'])).toThrow(ForbiddenError);
    expect(() => authorize(manager, 'X', foreign, ['manager', 'admin'])).toThrow(ForbiddenError);
    expect(() => authorize(manager, 'X', mine, ['staff'])).not.toThrow();
    expect(() => authorize(admin, 'X', foreign, ['manager', 'admin'])).not.toThrow();
    // The flag is the session's, for staff: another role claiming it gains nothing.
    const patientClaiming = commandMetadata({ actor: { id: 'pat-1', role: 'patient' }, clinicId: 'c-1', clinicManager: true });
    expect(patientClaiming.clinicManager).toBeUndefined();
    expect(() => authorize(patientClaiming, 'X', mine, ['manager'])).toThrow(ForbiddenError);
  });
  it('a role the command does not allow is refused; auditors never write', () => {
    expect(() => authorize(patient, 'X', mine, ['staff'])).toThrow(ForbiddenError);
    expect(() => authorize(auditor, 'X', mine, ['patient', 'staff', 'admin'])).toThrow(ForbiddenError);
    expect(() => authorize(admin, 'X', foreign, ['staff'])).toThrow(ForbiddenError);
    expect(() => authorize(admin, 'X', foreign, ['admin'])).not.toThrow();
  });
  it('the system actor may act anywhere', () => {
    expect(() => authorize(system, 'X', foreign, [])).not.toThrow();
  });
  it('authorizeOn reads the subject from the state; no entity yet → the decider answers not_found', () => {
    const check = authorizeOn(patient, 'X', ['patient'], (s: { owner: string } | null) => (s ? { patientId: s.owner } : null));
    expect(() => check({ owner: 'pat-1' })).not.toThrow();
    expect(() => check({ owner: 'pat-2' })).toThrow(ForbiddenError);
    expect(() => check(null)).not.toThrow();
  });
  it('the acting side and staff id are the actor', () => {
    expect(() => actingStaffId(patient, 'X', 'staff', undefined)).toThrow(ForbiddenError);
    expect(() => actingStaffId(staff, 'X', 'patient', undefined)).toThrow(ForbiddenError);
    expect(() => actingStaffId(staff, 'X', 'staff', 'staff-9')).toThrow(ForbiddenError);
    expect(actingStaffId(staff, 'X', 'staff', undefined)).toBe('staff-1');
    expect(actingStaffId(system, 'X', 'staff', 'staff-9')).toBe('staff-9');
  });
});
