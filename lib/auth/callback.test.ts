import { describe, expect, it } from 'vitest';
import { safeCallback, signInPathFor, sitePath } from './callback';

const patient = { role: 'patient', clinicId: null } as const;
const staff = { role: 'staff', clinicId: 'gangnam-glow' } as const;

describe('the sign-in callback never leaves the site', () => {
  const offSite = [
    'https://evil.example/me',
    'http://same-site.invalid/me', // absolute, even of "our" base: relative paths only
    '//evil.example/me',
    '/\\evil.example/me',
    '\\\\evil.example',
    '/.//evil.example/me',
    '/./..//evil.example',
    '/%2F/evil.example',
    '/%2f%2fevil.example',
    '/%5Cevil.example',
    '/%5cevil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '%2F%2Fevil.example',
    'javascript:alert(1)',
    'me',
    '',
    42,
    null,
  ];
  for (const raw of offSite) {
    it(`${JSON.stringify(raw)} → home`, () => {
      expect(sitePath(raw)).toBeNull();
      expect(safeCallback(raw, patient)).toBe('/me');
    });
  }
});

describe('the sign-in callback returns the user to the page they asked for', () => {
  it('keeps the path and its query exactly', () => {
    expect(safeCallback('/me/reservations/0199?tab=history&x=%ED%95%9C', patient)).toBe('/me/reservations/0199?tab=history&x=%ED%95%9C');
    expect(safeCallback('/clinics/gangnam-glow/book?treatment=t1&startsAt=2026-12-03T01%3A00%3A00.000Z', patient)).toBe(
      '/clinics/gangnam-glow/book?treatment=t1&startsAt=2026-12-03T01%3A00%3A00.000Z',
    );
  });

  it('but not to a page the user may not open, nor back to sign-in', () => {
    expect(safeCallback('/staff/apgujeong-line/board', staff)).toBe('/staff/gangnam-glow');
    expect(safeCallback('/admin', patient)).toBe('/me');
    expect(safeCallback('/signin?callbackUrl=/me', patient)).toBe('/me');
    expect(safeCallback('/staff/gangnam-glow/board?day=2026-12-01', staff)).toBe('/staff/gangnam-glow/board?day=2026-12-01');
  });

  it('the proxy remembers the asked-for page as a relative path with its query', () => {
    expect(signInPathFor('/me/reservations/0199', '?tab=history')).toBe(`/signin?callbackUrl=${encodeURIComponent('/me/reservations/0199?tab=history')}`);
    expect(signInPathFor('//evil.example')).toBe('/signin');
  });
});
