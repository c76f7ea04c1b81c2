-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Limit" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT,
    "hardMicros" BIGINT,
    "softMicros" BIGINT,
    "thresholds" TEXT,
    "notify" TEXT,
    "rpm" INTEGER,
    "itpm" INTEGER,
    "otpm" INTEGER,
    "channelId" TEXT,
    "webhookUrl" TEXT,
    "webhookSecret" TEXT,
    "webhookLegacySigning" BOOLEAN NOT NULL DEFAULT false,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Limit" ("channelId", "hardMicros", "id", "itpm", "notify", "orgId", "otpm", "projectId", "rpm", "softMicros", "thresholds", "updatedAt", "updatedBy", "webhookUrl") SELECT "channelId", "hardMicros", "id", "itpm", "notify", "orgId", "otpm", "projectId", "rpm", "softMicros", "thresholds", "updatedAt", "updatedBy", "webhookUrl" FROM "Limit";
DROP TABLE "Limit";
ALTER TABLE "new_Limit" RENAME TO "Limit";
CREATE UNIQUE INDEX "Limit_projectId_key" ON "Limit"("projectId");
CREATE INDEX "Limit_orgId_idx" ON "Limit"("orgId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;


-- Webhooks set before per-webhook secrets keep their receivers working: alerts for them are also
-- signed with the old org-wide secret until the limit's secret is rotated.
UPDATE "Limit" SET "webhookLegacySigning" = true WHERE "webhookUrl" IS NOT NULL;
