-- AlterTable
ALTER TABLE "Limit" ADD COLUMN "channelId" TEXT;
ALTER TABLE "Limit" ADD COLUMN "webhookUrl" TEXT;

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "limitId" TEXT NOT NULL,
    "projectId" TEXT,
    "period" TEXT NOT NULL,
    "eventKey" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "sentAt" DATETIME,
    "channelStatus" TEXT NOT NULL DEFAULT 'pending',
    "channelId" TEXT,
    "channelAttempts" INTEGER NOT NULL DEFAULT 0,
    "adminsStatus" TEXT NOT NULL DEFAULT 'pending',
    "adminsDone" TEXT NOT NULL DEFAULT '[]',
    "adminsAttempts" INTEGER NOT NULL DEFAULT 0,
    "webhookStatus" TEXT NOT NULL DEFAULT 'pending',
    "webhookUrl" TEXT,
    "webhookAttempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME,
    "lastError" TEXT,
    "lockedBy" TEXT,
    "lockedUntil" DATETIME
);

-- CreateTable
CREATE TABLE "DeliveryProblem" (
    "destination" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "notifiedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "JobRun" (
    "job" TEXT NOT NULL,
    "slot" DATETIME NOT NULL,
    "claimedBy" TEXT NOT NULL,
    "claimedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "status" TEXT NOT NULL,
    "error" TEXT,
    "result" TEXT,

    PRIMARY KEY ("job", "slot")
);

-- CreateTable
CREATE TABLE "KeyReminder" (
    "keyId" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "lastRemindedAt" DATETIME NOT NULL,
    "reason" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "UsageLatencyDaily" (
    "day" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "bucket" INTEGER NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("day", "projectId", "bucket")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_UsageDaily" (
    "day" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" BIGINT NOT NULL DEFAULT 0,
    "outputTokens" BIGINT NOT NULL DEFAULT 0,
    "cacheReadTokens" BIGINT NOT NULL DEFAULT 0,
    "cacheWriteTokens" BIGINT NOT NULL DEFAULT 0,
    "costMicros" BIGINT NOT NULL DEFAULT 0,
    "err401" INTEGER NOT NULL DEFAULT 0,
    "err403" INTEGER NOT NULL DEFAULT 0,
    "err429" INTEGER NOT NULL DEFAULT 0,
    "err5xx" INTEGER NOT NULL DEFAULT 0,
    "errOther" INTEGER NOT NULL DEFAULT 0,
    "latencyMsSum" BIGINT NOT NULL DEFAULT 0,

    PRIMARY KEY ("day", "keyId", "model")
);
INSERT INTO "new_UsageDaily" ("cacheReadTokens", "cacheWriteTokens", "costMicros", "day", "errors", "inputTokens", "keyId", "model", "orgId", "outputTokens", "projectId", "requests") SELECT "cacheReadTokens", "cacheWriteTokens", "costMicros", "day", "errors", "inputTokens", "keyId", "model", "orgId", "outputTokens", "projectId", "requests" FROM "UsageDaily";
DROP TABLE "UsageDaily";
ALTER TABLE "new_UsageDaily" RENAME TO "UsageDaily";
CREATE INDEX "UsageDaily_projectId_day_idx" ON "UsageDaily"("projectId", "day");
CREATE INDEX "UsageDaily_orgId_day_idx" ON "UsageDaily"("orgId", "day");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Alert_sentAt_nextAttemptAt_idx" ON "Alert"("sentAt", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Alert_orgId_createdAt_idx" ON "Alert"("orgId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Alert_limitId_period_eventKey_key" ON "Alert"("limitId", "period", "eventKey");

-- CreateIndex
CREATE INDEX "JobRun_job_claimedAt_idx" ON "JobRun"("job", "claimedAt");

-- CreateIndex
CREATE INDEX "UsageLatencyDaily_orgId_day_idx" ON "UsageLatencyDaily"("orgId", "day");

