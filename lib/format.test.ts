import { describe, expect, it } from 'vitest';
import { formatKrw, formatSeoulDateTime, formatSeoulShortDate, formatSeoulTime } from './format';

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

  it('a time of day is Seoul’s, on the 24-hour clock', () => {
    expect(formatSeoulTime('2026-12-02T05:30:00.000Z', 'ko')).toBe('14:30');
    expect(formatSeoulTime(new Date('2026-12-01T23:05:00Z'), 'en')).toBe('08:05');
  });

  it('a short clinic day is the Seoul calendar day, from a day key or an instant', () => {
    expect(formatSeoulShortDate('2026-12-02', 'ko')).toBe('12월 2일 (수)');
    expect(formatSeoulShortDate('2026-12-02', 'en')).toBe('Wed, Dec 2');
    expect(formatSeoulShortDate('2026-12-01T15:30:00.000Z', 'ko')).toBe('12월 2일 (수)'); // 00:30 on the 2nd in Seoul
  });
});

describe('formatSeoulDateTime', () => {
  it('shows Seoul time on the 24-hour clock in both languages (no AM/PM)', () => {
    const at = new Date('2026-11-26T05:30:00Z'); // 14:30 in Seoul
    expect(formatSeoulDateTime(at, 'ko')).toContain('14:30');
    expect(formatSeoulDateTime(at, 'en')).toContain('14:30');
    expect(formatSeoulDateTime(at, 'ko')).not.toMatch(/AM|PM/);
  });
});
