import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const roles = ['patient', 'staff', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Opening hours per ISO weekday (1 = Monday … 7 = Sunday), local Seoul time "HH:mm". */
export type OpeningHours = Partial<Record<'1' | '2' | '3' | '4' | '5' | '6' | '7', { opens: string; closes: string }>>;

export const clinics = pgTable('clinics', {
  id: text('id').primaryKey(),
  nameKo: text('name_ko').notNull(),
  nameEn: text('name_en').notNull(),
  district: text('district').notNull(),
  address: text('address').notNull(),
  phone: text('phone').notNull(),
  openingHours: jsonb('opening_hours').$type<OpeningHours>().notNull(),
  slotMinutes: integer('slot_minutes').notNull(),
  slotCapacity: integer('slot_capacity').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const treatments = pgTable(
  'treatments',
  {
    id: text('id').primaryKey(),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => clinics.id),
    category: text('category').notNull(),
    nameKo: text('name_ko').notNull(),
    nameEn: text('name_en').notNull(),
    /** Price in KRW, VAT included (Korean consumer prices are quoted VAT-inclusive). */
    priceKrw: integer('price_krw').notNull(),
    depositKrw: integer('deposit_krw').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    bookingMode: text('booking_mode').$type<'instant' | 'clinic-confirm'>().notNull(),
  },
  (t) => [index('treatments_clinic_idx').on(t.clinicId)],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<Role>().notNull(),
    /** Set for staff only: the one clinic they work for. */
    clinicId: text('clinic_id').references(() => clinics.id),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_email_idx').on(sql`lower(${t.email})`),
    index('users_clinic_idx').on(t.clinicId),
  ],
);

export const securityEventTypes = ['sign_in', 'sign_in_failed', 'sign_in_throttled', 'sign_out', 'registered', 'role_changed'] as const;
export type SecurityEventType = (typeof securityEventTypes)[number];

/** Sign-ins, failures and sign-outs. Also the source for sign-in rate limiting. */
export const securityEvents = pgTable(
  'security_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    type: text('type').$type<SecurityEventType>().notNull(),
    userId: uuid('user_id'),
    /** Normalised (lower-case) account e-mail as typed, also for unknown accounts. */
    email: text('email'),
    ip: text('ip').notNull(),
    userAgent: text('user_agent'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('security_events_email_idx').on(t.email, t.occurredAt),
    index('security_events_ip_idx').on(t.ip, t.occurredAt),
    index('security_events_time_idx').on(t.occurredAt),
  ],
);

/** One row per applied seed, so a second start never seeds again. */
export const seedRuns = pgTable('seed_runs', {
  name: text('name').primaryKey(),
  appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
});
