import pg from 'pg';
import { buildDist } from '../scripts/build.mjs';

/** Builds dist/; with TEST_DATABASE_URL set, fails fast (and clearly) when PostgreSQL is not answering. */
export default async function globalSetup() {
  // The server-process tests run dist/main.js, exactly what `npm start` runs.
  await buildDist();
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL does not answer: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
