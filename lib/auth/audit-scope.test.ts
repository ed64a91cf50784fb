import { describe, expect, it } from 'vitest';
import { outcome } from '../testing/next-request';
import { assertInScope, auditScopeOf, scopedClinic } from './audit-scope';

// next.config.js turns on authInterrupts (forbidden()); Next passes it to the server as this variable.
process.env.__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS = 'true';

const auditor = { role: 'auditor', clinicId: null, isClinicManager: false } as const;
const manager = { role: 'staff', clinicId: 'glow', isClinicManager: true } as const;

describe('the audit scope', () => {
  it('is every clinic for an auditor, their own clinic for a manager, and nothing for anyone else', () => {
    expect(auditScopeOf(auditor)).toEqual({ clinicId: null });
    expect(auditScopeOf(manager)).toEqual({ clinicId: 'glow' });
    expect(auditScopeOf({ ...manager, isClinicManager: false })).toBeNull();
    expect(auditScopeOf({ ...manager, clinicId: null })).toBeNull();
    expect(auditScopeOf({ role: 'admin', clinicId: null, isClinicManager: false })).toBeNull();
    expect(auditScopeOf({ role: 'patient', clinicId: null, isClinicManager: true })).toBeNull();
  });

  it("forces a manager's clinic on a query's filter, and lets an auditor's filter narrow", () => {
    expect(scopedClinic({ clinicId: 'glow' }, 'other')).toBe('glow');
    expect(scopedClinic({ clinicId: 'glow' }, undefined)).toBe('glow');
    expect(scopedClinic({ clinicId: null }, 'other')).toBe('other');
    expect(scopedClinic({ clinicId: null }, '')).toBeUndefined();
  });

  it("refuses a manager anything not wholly their clinic's", async () => {
    const seen = (clinicIds: Parameters<typeof assertInScope>[1], clinicId: string | null = 'glow') => outcome(async () => assertInScope({ clinicId }, clinicIds));
    expect(await seen('glow')).toBe('allowed');
    expect(await seen(['glow', null, 'glow'])).toBe('allowed');
    expect(await seen(['glow', 'other'])).toBe('forbidden');
    expect(await seen('other')).toBe('forbidden');
    expect(await seen(null)).toBe('forbidden');
    expect(await seen([])).toBe('forbidden');
    expect(await seen(['any', null], null)).toBe('allowed');
  });
});
