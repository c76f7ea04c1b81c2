-- AlterTable
ALTER TABLE "Limit" ADD COLUMN     "webhookLegacySigning" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "webhookSecret" TEXT;


-- Webhooks set before per-webhook secrets keep their receivers working: alerts for them are also
-- signed with the old org-wide secret until the limit's secret is rotated.
UPDATE "Limit" SET "webhookLegacySigning" = true WHERE "webhookUrl" IS NOT NULL;
