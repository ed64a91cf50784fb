import { describe, expect, it } from 'vitest';
import { clinicDay } from '../domain/shared/time';
import { seoulDay } from './rows';

describe('seoulDay', () => {
  it('gives the domain’s clinic day for instants around Seoul midnight across the years', () => {
    for (let year = 1990; year <= 2040; year += 5) {
      for (const iso of [`${year}-03-31T14:59:59.999Z`, `${year}-03-31T15:00:00.000Z`, `${year}-12-31T15:00:00.000Z`, `${year}-07-01T00:00:00.000Z`]) {
        expect(seoulDay(iso)).toBe(clinicDay(iso));
        expect(seoulDay(new Date(iso))).toBe(clinicDay(iso));
      }
    }
  });
});
