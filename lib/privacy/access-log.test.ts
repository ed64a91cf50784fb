/**
 * The access log's table is append-only in the database (migration 0015's triggers), whatever the
 * app does: UPDATE, DELETE and TRUNCATE are refused; an export without a reason is refused too.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/db';
import { recordPersonalDataAccess } from './access-log';

const t = await createTestDatabase();
const user = { id: randomUUID(), role: 'staff' as const, clinicId: 'clinic-a' };
const origin = { ip: '203.0.113.9', userAgent: 'vitest' };

describe('access_log', () => {
  it('records an entry with who, where from, whose data and what', async () => {
    const { id } = await recordPersonalDataAccess({ user, action: 'view', resource: 'patient-contact', patientIds: ['p-1', 'p-1'], origin }, t.db);
    const [row] = await t.sql`select account_id, role, clinic_id, ip, user_agent, action, resource, patient_ids, reason, occurred_at from access_log where id = ${id}`;
    expect(row).toMatchObject({ account_id: user.id, role: 'staff', clinic_id: 'clinic-a', ip: '203.0.113.9', user_agent: 'vitest', action: 'view', resource: 'patient-contact', patient_ids: ['p-1'], reason: null });
    expect(Date.now() - new Date(row!.occurred_at as string).getTime()).toBeLessThan(60_000);
  });

  it('refuses UPDATE, DELETE and TRUNCATE (triggers), and keeps the row as it was', async () => {
    const { id } = await recordPersonalDataAccess({ user, action: 'view', resource: 'account-list', origin }, t.db);
    await expect(t.sql`update access_log set resource = 'nothing' where id = ${id}`).rejects.toThrow(/access_log is append-only: UPDATE/);
    await expect(t.sql`delete from access_log where id = ${id}`).rejects.toThrow(/access_log is append-only: DELETE/);
    await expect(t.sql`truncate access_log`).rejects.toThrow(/access_log is append-only: TRUNCATE/);
    expect(await t.sql`select resource from access_log where id = ${id}`).toEqual([{ resource: 'account-list' }]);
  });

  it('refuses an export without a reason, in the function and in the database', async () => {
    await expect(recordPersonalDataAccess({ user, action: 'export', resource: 'audit-trail', reason: '  ', origin }, t.db)).rejects.toThrow(/reason/);
    await expect(
      t.sql`insert into access_log (account_id, role, action, resource) values (${user.id}, 'auditor', 'export', 'audit-trail')`,
    ).rejects.toThrow(/access_log_export_reason_check/);
    const { id } = await recordPersonalDataAccess({ user, action: 'export', resource: 'audit-trail', reason: 'monthly review', origin }, t.db);
    expect(await t.sql`select reason from access_log where id = ${id}`).toEqual([{ reason: 'monthly review' }]);
  });
});
