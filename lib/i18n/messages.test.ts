import { describe, expect, it } from 'vitest';
import { loadMessages, messageAreas } from './messages';

function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('messages', () => {
  it('Korean and English have the same keys in every area', async () => {
    for (const area of messageAreas) {
      const ko = (await import(`./messages/ko/${area}.json`)).default;
      const en = (await import(`./messages/en/${area}.json`)).default;
      expect(keyPaths(en).sort(), area).toEqual(keyPaths(ko).sort());
    }
  });

  it('areas merge without a namespace defined twice', async () => {
    await expect(loadMessages('ko')).resolves.toHaveProperty('errors.fixFields');
    await expect(loadMessages('en')).resolves.toHaveProperty('errors.conflict');
  });
});
