-- Backfill of the process managers' derived tables added in 0009, for a log that existed before it
-- (PostgreSQL event store; with EventStoreDB es_events is empty and this does nothing). New events
-- fill them through the process managers; on conflict keeps what they wrote.
-- Every deposit payment of a reservation (PaymentRequested, purpose deposit).
INSERT INTO "pm_deposit_payments" ("payment_id", "reservation_id", "requested_at")
SELECT e."data"->>'paymentId', e."data"->>'reservationId', COALESCE((e."metadata"->>'occurredAt')::timestamptz, e."recorded_at")
FROM "es_events" e
WHERE e."type" = 'PaymentRequested' AND e."data"->>'purpose' = 'deposit' AND e."data" ? 'reservationId'
ON CONFLICT ("payment_id") DO NOTHING;
--> statement-breakpoint
-- The payment deadline of pay-and-book reservations (a v1 event without kind was pay-and-book when it asked a deposit),
-- at the default 30 minutes: for these old reservations it has passed whatever the clinic set; the timer
-- drops the rows of those paid or closed and cancels those still waiting for their deposit.
INSERT INTO "pm_payment_deadlines" ("reservation_id", "clinic_id", "deadline_at")
SELECT e."data"->>'reservationId', e."data"->>'clinicId', COALESCE((e."metadata"->>'occurredAt')::timestamptz, e."recorded_at") + interval '30 minutes'
FROM "es_events" e
WHERE e."type" = 'ReservationRequested'
  AND COALESCE((e."data"->>'depositDueKrw')::numeric, 0) > 0
  AND COALESCE(e."data"->>'kind', 'pay-and-book') = 'pay-and-book'
ON CONFLICT ("reservation_id") DO NOTHING;
