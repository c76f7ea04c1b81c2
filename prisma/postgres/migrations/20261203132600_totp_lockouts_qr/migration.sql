-- AlterTable
ALTER TABLE "TotpEnrollment" ADD COLUMN     "lockouts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "qrFileId" TEXT;

