-- CreateTable
CREATE TABLE "KeyChangeFeed" (
    "id" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "KeyChangeFeed_pkey" PRIMARY KEY ("id")
);

