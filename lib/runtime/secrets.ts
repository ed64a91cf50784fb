import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Secrets the app needs, from the environment when configured, otherwise generated
 * once for development and kept in .data/secrets.json (never committed).
 */
export const secretNames = ['AUTH_SECRET', 'EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY'] as const;
export type SecretName = (typeof secretNames)[number];

export function loadOrCreateDevSecrets(dataDir = '.data'): Record<SecretName, string> {
  const file = path.resolve(dataDir, 'secrets.json');
  let stored: Partial<Record<SecretName, string>> = {};
  if (fs.existsSync(file)) stored = JSON.parse(fs.readFileSync(file, 'utf8'));
  let changed = false;
  for (const name of secretNames) {
    if (!stored[name]) {
      stored[name] = randomBytes(32).toString('base64');
      changed = true;
    }
  }
  if (changed) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  const result = {} as Record<SecretName, string>;
  for (const name of secretNames) result[name] = process.env[name] || stored[name]!;
  return result;
}
