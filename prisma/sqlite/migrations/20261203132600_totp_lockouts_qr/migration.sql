-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_TotpEnrollment" (
    "orgId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "sealedSecret" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "lastTimeStep" INTEGER,
    "failedAttempts" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" DATETIME,
    "lockouts" INTEGER NOT NULL DEFAULT 0,
    "qrFileId" TEXT,
    "createdAt" DATETIME NOT NULL,
    "activatedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    "version" INTEGER NOT NULL,

    PRIMARY KEY ("orgId", "userId")
);
INSERT INTO "new_TotpEnrollment" ("activatedAt", "createdAt", "failedAttempts", "lastTimeStep", "lockedUntil", "orgId", "sealedSecret", "status", "updatedAt", "userId", "version") SELECT "activatedAt", "createdAt", "failedAttempts", "lastTimeStep", "lockedUntil", "orgId", "sealedSecret", "status", "updatedAt", "userId", "version" FROM "TotpEnrollment";
DROP TABLE "TotpEnrollment";
ALTER TABLE "new_TotpEnrollment" RENAME TO "TotpEnrollment";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

