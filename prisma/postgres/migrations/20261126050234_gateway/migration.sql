-- CreateTable
CREATE TABLE "Limit" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT,
    "hardMicros" BIGINT,
    "softMicros" BIGINT,
    "thresholds" TEXT,
    "notify" TEXT,
    "rpm" INTEGER,
    "itpm" INTEGER,
    "otpm" INTEGER,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Limit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Budget" (
    "limitId" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "spentMicros" BIGINT NOT NULL DEFAULT 0,
    "leasedMicros" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Budget_pkey" PRIMARY KEY ("limitId","period")
);

-- CreateTable
CREATE TABLE "BudgetLease" (
    "limitId" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "amountMicros" BIGINT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BudgetLease_pkey" PRIMARY KEY ("limitId","period","instanceId")
);

-- CreateTable
CREATE TABLE "GatewayInstance" (
    "id" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GatewayInstance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UsageEvent" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "errorClass" TEXT,
    "stream" BOOLEAN NOT NULL DEFAULT false,
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "cacheReadTokens" INTEGER NOT NULL DEFAULT 0,
    "cacheWriteTokens" INTEGER NOT NULL DEFAULT 0,
    "costMicros" BIGINT NOT NULL DEFAULT 0,
    "latencyMs" INTEGER NOT NULL DEFAULT 0,
    "overheadUs" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UsageEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UsageDaily" (
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

    CONSTRAINT "UsageDaily_pkey" PRIMARY KEY ("day","keyId","model")
);

-- CreateIndex
CREATE UNIQUE INDEX "Limit_projectId_key" ON "Limit"("projectId");

-- CreateIndex
CREATE INDEX "Limit_orgId_idx" ON "Limit"("orgId");

-- CreateIndex
CREATE INDEX "BudgetLease_instanceId_idx" ON "BudgetLease"("instanceId");

-- CreateIndex
CREATE INDEX "GatewayInstance_heartbeatAt_idx" ON "GatewayInstance"("heartbeatAt");

-- CreateIndex
CREATE INDEX "UsageEvent_projectId_createdAt_idx" ON "UsageEvent"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "UsageEvent_createdAt_idx" ON "UsageEvent"("createdAt");

-- CreateIndex
CREATE INDEX "UsageDaily_projectId_day_idx" ON "UsageDaily"("projectId", "day");

-- CreateIndex
CREATE INDEX "UsageDaily_orgId_day_idx" ON "UsageDaily"("orgId", "day");

