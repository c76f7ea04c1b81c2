-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ApprovalRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "requesterId" TEXT NOT NULL,
    "keyName" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "keyExpiresInMs" BIGINT,
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
INSERT INTO "new_ApprovalRequest" ("createdAt", "decidedAt", "decidedBy", "decisionNote", "environment", "expiresAt", "id", "keyExpiresInMs", "keyId", "keyName", "orgId", "projectId", "reason", "requesterChannelId", "requesterId", "requesterTs", "rpm", "scope", "status") SELECT "createdAt", "decidedAt", "decidedBy", "decisionNote", "environment", "expiresAt", "id", "keyExpiresInMs", "keyId", "keyName", "orgId", "projectId", "reason", "requesterChannelId", "requesterId", "requesterTs", "rpm", "scope", "status" FROM "ApprovalRequest";
DROP TABLE "ApprovalRequest";
ALTER TABLE "new_ApprovalRequest" RENAME TO "ApprovalRequest";
CREATE UNIQUE INDEX "ApprovalRequest_keyId_key" ON "ApprovalRequest"("keyId");
CREATE INDEX "ApprovalRequest_orgId_status_expiresAt_idx" ON "ApprovalRequest"("orgId", "status", "expiresAt");
CREATE INDEX "ApprovalRequest_projectId_status_idx" ON "ApprovalRequest"("projectId", "status");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

