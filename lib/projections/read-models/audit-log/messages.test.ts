/** Every event the trail can show has its action in plain words, in Korean and English (audit.actions.<type>). */
import { describe, expect, it } from 'vitest';
import { loadMessages } from '../../../i18n/messages';
import { trailEventTypes } from './trail';

describe('the trail names every action', () => {
  it.each(['ko', 'en'] as const)('%s: one message per business and security event type', async (locale) => {
    const audit = (await loadMessages(locale)).audit as { actions: Record<string, string> };
    const missing = trailEventTypes.filter((type) => !audit.actions[type]?.trim());
    expect(missing).toEqual([]);
    expect(trailEventTypes.length).toBeGreaterThan(40);
  });
});
