-- AlterTable
ALTER TABLE "Org" ADD COLUMN "digestChannelId" TEXT;
ALTER TABLE "Org" ADD COLUMN "digestCron" TEXT;

-- AlterTable
ALTER TABLE "Project" ADD COLUMN "digestChannelId" TEXT;

