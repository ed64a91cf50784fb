/**
 * The UI's messages, one file per area and locale (`<locale>/<area>.json`), merged into one tree.
 * Split so that areas are edited independently; each area owns its own top-level namespaces
 * (an area must not add keys under another area's namespace: the merge is shallow and a clash throws).
 */
import type { Locale } from '../config';

export const messageAreas = ['base', 'catalogue', 'booking', 'checkout', 'me', 'account', 'domain-errors', 'security', 'staff', 'audit', 'admin-payments', 'desk', 'access', 'stats', 'access-audit', 'manage', 'integrity'] as const;

type Messages = Record<string, unknown>;

export async function loadMessages(locale: Locale): Promise<Messages> {
  const parts = await Promise.all(messageAreas.map(async (area) => [area, (await import(`./${locale}/${area}.json`)).default as Messages] as const));
  const merged: Messages = {};
  for (const [area, part] of parts) {
    for (const [namespace, value] of Object.entries(part)) {
      if (namespace in merged) throw new Error(`messages: namespace "${namespace}" of area "${area}" is already defined by another area`);
      merged[namespace] = value;
    }
  }
  return merged;
}
