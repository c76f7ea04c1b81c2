-- CreateTable
CREATE TABLE "UsageDeadLetter" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "costMicros" BIGINT NOT NULL,
    "replaced" BOOLEAN NOT NULL,
    "error" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UsageDeadLetter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UsageDeadLetter_createdAt_idx" ON "UsageDeadLetter"("createdAt");

