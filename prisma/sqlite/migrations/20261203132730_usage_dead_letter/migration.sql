-- CreateTable
CREATE TABLE "UsageDeadLetter" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "costMicros" BIGINT NOT NULL,
    "replaced" BOOLEAN NOT NULL,
    "error" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "UsageDeadLetter_createdAt_idx" ON "UsageDeadLetter"("createdAt");

