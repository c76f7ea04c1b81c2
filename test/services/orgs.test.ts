import { beforeEach, describe, expect, it } from 'vitest';
import { orgForCli, orgForTeam } from '../../src/services/orgs.js';
import { T0, serviceWorld } from './setup.js';
import { freshDatabase } from '../helpers/db.js';

const w = serviceWorld();

describe('orgs', () => {
  beforeEach(async () => {
    await w.db.org.deleteMany(); // this file creates no projects, so orgs can be cleared
  });

  it('the first Slack team claims the single org the CLI created; a second team gets its own', async () => {
    const cliOrg = await orgForCli(w.db, T0);
    expect(await orgForCli(w.db, T0)).toBe(cliOrg);
    expect(await orgForTeam(w.db, 'T1', T0, 'Acme')).toBe(cliOrg);
    expect(await w.db.org.findUniqueOrThrow({ where: { id: cliOrg } })).toMatchObject({ slackTeamId: 'T1', name: 'Acme' });
    expect(await orgForTeam(w.db, 'T1', T0)).toBe(cliOrg);
    const second = await orgForTeam(w.db, 'T2', T0);
    expect(second).not.toBe(cliOrg);
    expect(await w.db.org.count()).toBe(2);
  });

  it('with several orgs the CLI needs --org (team id or org id)', async () => {
    const a = await orgForTeam(w.db, 'TA', T0);
    const b = await orgForTeam(w.db, 'TB', T0);
    await expect(orgForCli(w.db, T0)).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/--org/) });
    expect(await orgForCli(w.db, T0, 'TB')).toBe(b);
    expect(await orgForCli(w.db, T0, a)).toBe(a);
    await expect(orgForCli(w.db, T0, 'T_NOPE')).rejects.toMatchObject({ code: 'invalid' });
    expect(await w.db.org.count()).toBe(2);
  });

  it('a team never claims an org while other orgs exist', async () => {
    const t1 = await orgForTeam(w.db, 'T1', T0);
    const unclaimed = await w.db.org.create({ data: { id: 'org_cli', createdAt: T0 } });
    const t2 = await orgForTeam(w.db, 'T2', T0);
    expect([t1, unclaimed.id]).not.toContain(t2);
  });

  it('concurrent first requests of one team give one org', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => orgForTeam(w.db, 'TC', T0)));
    expect(new Set(ids).size).toBe(1);
    expect(await w.db.org.count()).toBe(1);
  });

  it('the only org is used by the CLI without --org', async () => {
    const only = await orgForTeam(w.db, 'T9', T0);
    expect(await orgForCli(w.db, T0)).toBe(only);
  });
});

describe('orgForCli under a race', () => {
  it('two concurrent first runs on an empty database make one org', async () => {
    const t = await freshDatabase();
    try {
      const ids = await Promise.all([orgForCli(t.db, new Date()), orgForCli(t.db, new Date()), orgForCli(t.db, new Date())]);
      expect(new Set(ids).size).toBe(1);
      expect(await t.db.org.count()).toBe(1);
    } finally {
      await t.drop();
    }
  });
});
