import { describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/jobs/cleanup.js';
import { markKeyChanged } from '../../src/services/key-changes.js';
import { usingPostgres } from '../helpers/db.js';
import { jobWorld } from './world.js';

const w = jobWorld();
const DAY = 86_400_000;

describe(`cleanup (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  it('prunes key changes older than a week, always keeping the newest (gateways start their cursor there)', async () => {
    const old = new Date(w.clock.getTime() - 8 * DAY);
    for (const keyId of ['key_a', 'key_b', 'key_c']) await w.db.$transaction((tx) => markKeyChanged(tx, keyId, old));
    const feed = async () => (await w.db.keyChange.findMany({ orderBy: { id: 'asc' } })).map((c) => c.keyId);

    expect((await runCleanup(w.clock, w.deps({ dryRun: true }))).lines[0]).toContain('2 key changes');
    expect(await feed()).toEqual(['key_a', 'key_b', 'key_c']);
    expect((await runCleanup(w.clock, w.deps())).lines[0]).toContain('2 key changes');
    expect(await feed()).toEqual(['key_c']);

    await w.db.$transaction((tx) => markKeyChanged(tx, 'key_d', new Date(w.clock.getTime() - DAY)));
    await runCleanup(w.clock, w.deps());
    expect(await feed()).toEqual(['key_d']); // key_c is old and no longer the newest; key_d is recent
  });
});
