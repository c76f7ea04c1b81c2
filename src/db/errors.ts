/** Prisma's unique-constraint violation (P2002): another writer recorded the same row first. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
