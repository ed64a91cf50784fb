ALTER TABLE "users" DROP CONSTRAINT "users_clinic_id_clinics_id_fk";
