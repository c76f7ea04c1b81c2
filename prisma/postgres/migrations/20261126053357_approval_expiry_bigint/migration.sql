-- AlterTable
ALTER TABLE "ApprovalRequest" ALTER COLUMN "keyExpiresInMs" SET DATA TYPE BIGINT;

