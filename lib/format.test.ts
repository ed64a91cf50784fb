import { describe, expect, it } from 'vitest';
import { formatKrw, formatSeoulDateTime } from './format';

describe('formatting for Seoul clinics', () => {
  it('formats whole-won amounts in both languages', () => {
    expect(formatKrw(150000, 'ko')).toBe('₩150,000');
    expect(formatKrw(150000, 'en')).toMatch(/₩150,000/);
  });

  it('shows times in Seoul regardless of the server time zone', () => {
    const at = new Date('2026-11-25T23:30:00Z'); // 08:30 on the 26th in Seoul
    expect(formatSeoulDateTime(at, 'en')).toMatch(/Nov 26, 2026.*8:30/);
    expect(formatSeoulDateTime(at, 'ko')).toMatch(/2026\. 11\. 26\..*8:30/);
  });
});
