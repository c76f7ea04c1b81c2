-- CreateTable
CREATE TABLE "ApprovalRequest" (
    "id" TEXT NOT NULL,
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
    "createdAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "decidedBy" TEXT,
    "decidedAt" TIMESTAMP(3),
    "decisionNote" TEXT,
    "keyId" TEXT,
    "requesterChannelId" TEXT,
    "requesterTs" TEXT,

    CONSTRAINT "ApprovalRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApprovalMessage" (
    "requestId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "ts" TEXT NOT NULL,

    CONSTRAINT "ApprovalMessage_pkey" PRIMARY KEY ("requestId","userId")
);

-- CreateTable
CREATE TABLE "TotpEnrollment" (
    "orgId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "sealedSecret" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "lastTimeStep" INTEGER,
    "failedAttempts" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL,
    "activatedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "version" INTEGER NOT NULL,

    CONSTRAINT "TotpEnrollment_pkey" PRIMARY KEY ("orgId","userId")
);

-- CreateTable
CREATE TABLE "ReviewCampaign" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "slot" TEXT,
    "startedBy" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "dueAt" TIMESTAMP(3) NOT NULL,
    "status" TEXT NOT NULL,
    "closedAt" TIMESTAMP(3),
    "closedBy" TEXT,
    "unreviewed" TEXT,
    "lastReminderAt" TIMESTAMP(3),

    CONSTRAINT "ReviewCampaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReviewItem" (
    "id" TEXT NOT NULL,
    "campaignId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "projectName" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "environment" TEXT,
    "flags" TEXT NOT NULL DEFAULT '',
    "lastActivityAt" TIMESTAMP(3),
    "decision" TEXT,
    "decidedBy" TEXT,
    "decidedAt" TIMESTAMP(3),
    "auto" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "ReviewItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReviewMessage" (
    "campaignId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "ts" TEXT NOT NULL,

    CONSTRAINT "ReviewMessage_pkey" PRIMARY KEY ("campaignId","projectId","userId")
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

