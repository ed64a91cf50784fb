import { expect, it } from 'vitest';

// Runs only in the vitest project that sets TZ (vitest.config.ts): proves the zone-sensitive tests
// there really run under a zone that is neither Seoul nor UTC.
it('this project runs under a time zone that is not Seoul', () => {
  expect(process.env.TZ).toBe('America/Los_Angeles');
  expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe('America/Los_Angeles');
  // 2025-03-02T15:30Z: 07:30 on Sunday in Los Angeles, 00:30 on Monday in Seoul.
  const at = new Date('2025-03-02T15:30:00Z');
  expect([at.getDate(), at.getHours()]).toEqual([2, 7]);
});
