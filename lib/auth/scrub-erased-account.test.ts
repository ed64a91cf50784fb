/**
 * scrubErasedAccount: what it changes for the erased account, and what it leaves alone (another
 * account's rows from the same address, other mail), and that doing it twice changes nothing more.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emailOutbox, users } from '../db/schema';
import { pseudonym } from '../privacy/pseudonym';
import { createTestDatabase } from '../testing/db';
import { erasedEmailOf, scrubErasedAccount } from './accounts';
import { queueEmail } from './outbox';
import { recordSecurityEvent } from './security-log';

process.env.PERSONAL_DATA_MASTER_KEY ??= Buffer.alloc(32, 7).toString('base64');
const t = await createTestDatabase();

describe('scrubErasedAccount', () => {
  it("pseudonymises the account's security events and those typed with its address, and nothing else", async () => {
    const erased = { id: randomUUID(), email: `scrub-${randomUUID().slice(0, 8)}@example.com` };
    const other = { id: randomUUID(), email: `other-${randomUUID().slice(0, 8)}@example.com` };
    await t.db.insert(users).values([erased, other].map((a) => ({ ...a, name: `name of ${a.email}`, passwordHash: 'x', role: 'patient' as const })));
    const home = { ip: '198.51.100.50', userAgent: 'Home browser' };
    await recordSecurityEvent(t.db, { type: 'sign_in', userId: erased.id, email: erased.email, origin: home });
    await recordSecurityEvent(t.db, { type: 'sign_in_failed', email: erased.email.toUpperCase(), origin: { ip: '203.0.113.60', userAgent: 'curl' } });
    await recordSecurityEvent(t.db, { type: 'sign_in', userId: other.id, email: other.email, origin: home }); // same household
    await queueEmail(t.db, { to: erased.email, template: 'verify-email', payload: { verifyUrl: 'https://x.example/v?token=1' } });
    await queueEmail(t.db, { to: other.email, template: 'verify-email', payload: { verifyUrl: 'https://x.example/v?token=2' } });

    await scrubErasedAccount(erased.id, t.db);
    const events = () => t.sql`select user_id, email, ip, user_agent from security_events order by id`;
    const after = await events();
    expect(after).toEqual([
      { user_id: erased.id, email: pseudonym('email', erased.email), ip: pseudonym('ip', home.ip), user_agent: null },
      { user_id: null, email: pseudonym('email', erased.email), ip: pseudonym('ip', '203.0.113.60'), user_agent: null },
      { user_id: other.id, email: other.email, ip: home.ip, user_agent: home.userAgent },
    ]);
    expect(await t.sql`select id, name, email, active, password_hash, session_version from users order by email`).toEqual([
      { id: erased.id, name: '', email: erasedEmailOf(erased.id), active: false, password_hash: '!erased', session_version: 1 },
      { id: other.id, name: `name of ${other.email}`, email: other.email, active: true, password_hash: 'x', session_version: 0 },
    ]);
    expect((await t.db.select({ to: emailOutbox.toEmail }).from(emailOutbox)).map((m) => m.to)).toEqual([other.email]);

    // Again: nothing more changes (the placeholder address is not pseudonymised, the pseudonyms stay).
    await scrubErasedAccount(erased.id, t.db);
    expect(await events()).toEqual(after);
  });
});
