// Creates an org, a project and an inference key through the real services; returns the key's secret.
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import { cliActor, createServices } from '../src/services/index.js';
import { orgForCli } from '../src/services/orgs.js';

export async function provisionKey(databaseUrl: string, secret: string, scope: 'inference' | 'full' = 'inference') {
  await migrate(databaseUrl);
  const database = await openDatabase(databaseUrl);
  try {
    const services = createServices({ db: database.db, secret, logger: createLogger('silent') });
    const orgId = await orgForCli(database.db, new Date());
    const actor = cliActor(orgId, 'bench');
    await services.projects.create(actor, 'bench', 'benchmark project').catch(() => undefined);
    const { secret: keySecret } = await services.keys.create(actor, { project: 'bench', name: `bench ${Date.now()}`, scope });
    return keySecret;
  } finally {
    await database.close();
  }
}
