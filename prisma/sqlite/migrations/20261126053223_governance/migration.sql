-- CreateTable
CREATE TABLE "ApprovalRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "requesterId" TEXT NOT NULL,
    "keyName" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "keyExpiresInMs" INTEGER,
    "rpm" INTEGER,
    "reason" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "decidedBy" TEXT,
    "decidedAt" DATETIME,
    "decisionNote" TEXT,
    "keyId" TEXT,
    "requesterChannelId" TEXT,
    "requesterTs" TEXT
);

-- CreateTable
CREATE TABLE "ApprovalMessage" (
    "requestId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "ts" TEXT NOT NULL,

    PRIMARY KEY ("requestId", "userId")
);

-- CreateTable
CREATE TABLE "TotpEnrollment" (
    "orgId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "sealedSecret" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "lastTimeStep" INTEGER,
    "failedAttempts" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" DATETIME,
    "createdAt" DATETIME NOT NULL,
    "activatedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    "version" INTEGER NOT NULL,

    PRIMARY KEY ("orgId", "userId")
);

-- CreateTable
CREATE TABLE "ReviewCampaign" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "slot" TEXT,
    "startedBy" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "dueAt" DATETIME NOT NULL,
    "status" TEXT NOT NULL,
    "closedAt" DATETIME,
    "closedBy" TEXT,
    "unreviewed" TEXT,
    "lastReminderAt" DATETIME
);

-- CreateTable
CREATE TABLE "ReviewItem" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "campaignId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "projectName" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "environment" TEXT,
    "flags" TEXT NOT NULL DEFAULT '',
    "lastActivityAt" DATETIME,
    "decision" TEXT,
    "decidedBy" TEXT,
    "decidedAt" DATETIME,
    "auto" BOOLEAN NOT NULL DEFAULT false
);

-- CreateTable
CREATE TABLE "ReviewMessage" (
    "campaignId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "ts" TEXT NOT NULL,

    PRIMARY KEY ("campaignId", "projectId", "userId")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalRequest_keyId_key" ON "ApprovalRequest"("keyId");

-- CreateIndex
CREATE INDEX "ApprovalRequest_orgId_status_expiresAt_idx" ON "ApprovalRequest"("orgId", "status", "expiresAt");

-- CreateIndex
CREATE INDEX "ApprovalRequest_projectId_status_idx" ON "ApprovalRequest"("projectId", "status");

-- CreateIndex
CREATE INDEX "ReviewCampaign_orgId_status_idx" ON "ReviewCampaign"("orgId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "ReviewCampaign_orgId_slot_key" ON "ReviewCampaign"("orgId", "slot");

-- CreateIndex
CREATE INDEX "ReviewItem_campaignId_projectId_idx" ON "ReviewItem"("campaignId", "projectId");

-- CreateIndex
CREATE UNIQUE INDEX "ReviewItem_campaignId_projectId_kind_subjectId_key" ON "ReviewItem"("campaignId", "projectId", "kind", "subjectId");

