-- AlterTable
ALTER TABLE "Limit" ADD COLUMN     "channelId" TEXT,
ADD COLUMN     "webhookUrl" TEXT;

-- AlterTable
ALTER TABLE "UsageDaily" ADD COLUMN     "err401" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "err403" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "err429" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "err5xx" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "errOther" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "latencyMsSum" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "limitId" TEXT NOT NULL,
    "projectId" TEXT,
    "period" TEXT NOT NULL,
    "eventKey" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "sentAt" TIMESTAMP(3),
    "channelStatus" TEXT NOT NULL DEFAULT 'pending',
    "channelId" TEXT,
    "channelAttempts" INTEGER NOT NULL DEFAULT 0,
    "adminsStatus" TEXT NOT NULL DEFAULT 'pending',
    "adminsDone" TEXT NOT NULL DEFAULT '[]',
    "adminsAttempts" INTEGER NOT NULL DEFAULT 0,
    "webhookStatus" TEXT NOT NULL DEFAULT 'pending',
    "webhookUrl" TEXT,
    "webhookAttempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3),
    "lastError" TEXT,
    "lockedBy" TEXT,
    "lockedUntil" TIMESTAMP(3),

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeliveryProblem" (
    "destination" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "notifiedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DeliveryProblem_pkey" PRIMARY KEY ("destination")
);

-- CreateTable
CREATE TABLE "JobRun" (
    "job" TEXT NOT NULL,
    "slot" TIMESTAMP(3) NOT NULL,
    "claimedBy" TEXT NOT NULL,
    "claimedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "status" TEXT NOT NULL,
    "error" TEXT,
    "result" TEXT,

    CONSTRAINT "JobRun_pkey" PRIMARY KEY ("job","slot")
);

-- CreateTable
CREATE TABLE "KeyReminder" (
    "keyId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "lastRemindedAt" TIMESTAMP(3) NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "KeyReminder_pkey" PRIMARY KEY ("keyId")
);

-- CreateTable
CREATE TABLE "UsageLatencyDaily" (
    "day" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "bucket" INTEGER NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "UsageLatencyDaily_pkey" PRIMARY KEY ("day","projectId","bucket")
);

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

