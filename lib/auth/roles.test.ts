import { describe, expect, it } from 'vitest';
import { decideRoute, homeFor } from './roles';

const patient = { role: 'patient', clinicId: null } as const;
const staff = { role: 'staff', clinicId: 'gangnam-glow' } as const;
const auditor = { role: 'auditor', clinicId: null } as const;
const admin = { role: 'admin', clinicId: null } as const;

describe('who may open which area', () => {
  it('sends anonymous visitors of protected areas to sign-in, and lets them browse the rest', () => {
    for (const path of ['/me', '/staff/gangnam-glow', '/audit', '/admin/projections']) expect(decideRoute(path, null)).toBe('sign-in');
    for (const path of ['/', '/clinics/gangnam-glow', '/signin', '/register']) expect(decideRoute(path, null)).toBe('allow');
  });

  it('keeps each role to its own area', () => {
    expect(decideRoute('/me', patient)).toBe('allow');
    expect(decideRoute('/staff/gangnam-glow', patient)).toBe('forbidden');
    expect(decideRoute('/admin', auditor)).toBe('forbidden');
    expect(decideRoute('/audit', admin)).toBe('forbidden');
    expect(decideRoute('/admin', admin)).toBe('allow');
  });

  it('lets auditors and staff into the audit area (the pages refuse staff who do not manage), and nobody else', () => {
    expect(decideRoute('/audit', staff)).toBe('allow');
    expect(decideRoute('/audit/access', staff)).toBe('allow');
    expect(decideRoute('/audit/access', auditor)).toBe('allow');
    expect(decideRoute('/audit/access', patient)).toBe('forbidden');
    expect(decideRoute('/audit/access/review', admin)).toBe('forbidden');
  });

  it("keeps staff to their own clinic's pages", () => {
    expect(decideRoute('/staff', staff)).toBe('allow');
    expect(decideRoute('/staff/gangnam-glow/visits', staff)).toBe('allow');
    expect(decideRoute('/staff/apgujeong-line', staff)).toBe('forbidden');
  });

  it('knows each role’s home', () => {
    expect([patient, staff, auditor, admin].map(homeFor)).toEqual(['/me', '/staff/gangnam-glow', '/audit', '/admin']);
  });
});
