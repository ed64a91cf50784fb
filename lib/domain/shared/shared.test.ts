import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deciders, EVENT_VERSIONS, streamKindOfEventType, upcastAny } from '../index';
import { DomainError, EventSchemaError, NotFoundError } from './errors';
import { formatKrw, supplyValue, vatPortion } from './money';
import { parseStream, streams } from './streams';
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { atLocal, clinicDay, DayKey, FIRST_DAY, isoSeoul, localTime, weekdayOf, weekdayOfDay } from './time';

describe('shared kernel', () => {
  it('VAT inside a VAT-inclusive KRW price is round(price × 10 / 110)', () => {
    expect(vatPortion(110_000)).toBe(10_000);
    expect(vatPortion(99_000)).toBe(9_000);
    expect(vatPortion(55_555)).toBe(5_050);
    expect(supplyValue(110_000)).toBe(100_000);
    expect(() => vatPortion(1.5)).toThrow(RangeError);
    expect(formatKrw(1_200_000)).toBe('₩1,200,000');
  });

  it('clinic days, local times and weekdays are Asia/Seoul, whatever the machine zone', () => {
    // 2025-03-02T15:30Z is Monday 00:30 in Seoul, still Sunday in UTC.
    expect(clinicDay('2025-03-02T15:30:00Z')).toBe('2025-03-03');
    expect(localTime('2025-03-02T15:30:00Z')).toBe('00:30');
    expect(weekdayOf('2025-03-02T15:30:00Z')).toBe(1);
    expect(weekdayOfDay('2025-03-02')).toBe(0);
    expect(atLocal('2025-03-03', '10:00').toISOString()).toBe('2025-03-03T01:00:00.000Z');
    expect(atLocal('2025-03-03', '24:00').toISOString()).toBe('2025-03-03T15:00:00.000Z');
  });

  it('a clinic day key names a calendar day the time functions compute: FIRST_DAY to 9999-12-31, one issue otherwise', () => {
    // Given the days at both ends, when each is placed at noon in Seoul, then it is that same day.
    for (const d of [FIRST_DAY, '1969-12-31', '2028-02-29', '9999-12-31']) {
      expect(DayKey.safeParse(d).success, d).toBe(true);
      expect(clinicDay(atLocal(d, '12:00')), d).toBe(d);
    }
    // Year 0000 made atLocal throw and 0001–0099 read as 1901–1999: such keys are refused, as are impossible dates.
    for (const d of ['0000-05-01', '0001-05-01', '0099-12-31', '1899-12-31', '2026-02-30', '2026-13-01', '10000-01-01', '', '2026-3-1']) {
      expect(DayKey.safeParse(d).error?.issues, d).toHaveLength(1);
    }
  });

  it('the fixed +09:00 arithmetic (from 1988-10-10) answers as the time-zone database does, and earlier days still go through it', () => {
    // The reference: the Asia/Seoul rules of the time-zone database, as the time functions used them throughout.
    const seoul = (ms: number) => new TZDate(ms, 'Asia/Seoul');
    const refAtLocal = (day: string, time: string) => {
      const [y, mo, d] = day.split('-').map(Number) as [number, number, number];
      const [h, m] = time.split(':').map(Number) as [number, number];
      return new TZDate(y, mo - 1, d, h, m, 'Asia/Seoul').getTime();
    };
    // Given instants every 7 h 13 min (× 331, ≈ 100 days apart) from before the last summer time (1987) to 2100 and the edges,
    const instants: number[] = [];
    for (let ms = Date.UTC(1987, 4, 1); ms < Date.UTC(2100, 0, 1); ms += (7 * 60 + 13) * 60_000 * 331) instants.push(ms);
    instants.push(Date.UTC(1988, 9, 8, 16, 59), Date.UTC(1988, 9, 8, 17, 0), Date.UTC(1988, 9, 9, 23, 59), Date.UTC(1988, 9, 10), Date.UTC(9999, 11, 31, 14, 59), Date.UTC(9999, 11, 31, 15, 0));
    // when each is read as a Seoul day, time, weekday and offset form, then every answer is the database's.
    for (const ms of instants) {
      const at = new Date(ms);
      expect(clinicDay(at), at.toISOString()).toBe(format(seoul(ms), 'yyyy-MM-dd'));
      expect(localTime(at.toISOString()), at.toISOString()).toBe(format(seoul(ms), 'HH:mm'));
      expect(weekdayOf(at), at.toISOString()).toBe(seoul(ms).getDay());
      expect(isoSeoul(at), at.toISOString()).toBe(format(seoul(ms), "yyyy-MM-dd'T'HH:mm:ssXXX"));
    }
    // And local times of days on both sides of 1988-10-10 (summer time in 1987 and 1988 included), the end of the day, 9999-12-31:
    const days = ['1950-06-01', '1987-07-01', '1988-06-01', '1988-10-09', '1988-10-10', '2025-03-03', '2028-02-29', '2099-12-31', '9999-12-31'];
    for (const day of days) {
      for (const time of ['00:00', '02:30', '09:00', '12:00', '23:59', '24:00']) {
        expect(atLocal(day, time).getTime(), `${day} ${time}`).toBe(refAtLocal(day, time));
      }
    }
    // An impossible day is refused on either path.
    expect(() => atLocal('2026-02-30', '10:00')).toThrow(RangeError);
    expect(() => atLocal('1980-02-30', '10:00')).toThrow(RangeError);
    // Before 1988 the offset was not always +09:00 (1987 summer time: +10:00), and the answer is still the database's.
    expect(atLocal('1987-07-01', '12:00').toISOString()).toBe('1987-07-01T02:00:00.000Z');
    expect(clinicDay('1987-07-01T14:30:00Z')).toBe('1987-07-02');
  });

  it('stream names have one home and parse back', () => {
    expect(streams.schedule('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '2025-03-03')).toBe(
      'schedule-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b-2025-03-03',
    );
    expect(parseStream('schedule-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b-2025-03-03')).toEqual({
      kind: 'schedule',
      clinicId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      day: '2025-03-03',
    });
    expect(parseStream(streams.reservation('r-1'))).toEqual({ kind: 'reservation', id: 'r-1' });
    expect(parseStream('$all')).toBeNull();
  });

  it('domain errors carry a stable code and details, and serialise', () => {
    const e = new NotFoundError('reservation', { reservationId: 'r1' });
    expect(e).toBeInstanceOf(DomainError);
    expect(e.name).toBe('NotFoundError');
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ code: 'reservation.not_found', details: { reservationId: 'r1' } });
  });

  it('event types are unique across aggregates; upcastAny routes by type', () => {
    const types = Object.values(EVENT_VERSIONS).flatMap((v) => Object.keys(v));
    expect(new Set(types).size).toBe(types.length);
    expect(types).toHaveLength(11 + 3 + 9 + 9 + 7 + 5);
    expect(Object.keys(deciders)).toEqual(['clinic', 'schedule', 'reservation', 'payment', 'visit', 'patient']);
    expect(streamKindOfEventType('SlotHeld')).toBe('schedule');
    expect(upcastAny({ type: 'TreatmentUnlisted', schemaVersion: 1, data: { treatmentId: 't1' } })).toEqual({
      type: 'TreatmentUnlisted',
      schemaVersion: 1,
      data: { treatmentId: 't1' },
    });
    expect(() => upcastAny({ type: 'Nope', schemaVersion: 1, data: {} })).toThrow(EventSchemaError);
  });

  it('the domain does no I/O and reads no clock or randomness (source scan)', () => {
    const root = path.resolve(import.meta.dirname, '..');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) files.push(p);
      }
    };
    walk(root);
    const forbidden = [
      /from ['"]node:/,
      /from ['"](fs|path|crypto|postgres|drizzle-orm[^'"]*|pg)['"]/,
      /\bfetch\(/,
      /Date\.now\(/,
      /new Date\(\)/,
      /Math\.random/,
      /randomUUID/,
      /process\.env/,
    ];
    const offences = files.flatMap((f) => {
      const src = readFileSync(f, 'utf8');
      return forbidden.filter((re) => re.test(src)).map((re) => `${path.relative(root, f)}: ${re}`);
    });
    expect(offences).toEqual([]);
  });
});
