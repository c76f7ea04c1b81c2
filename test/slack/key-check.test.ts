import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackActor } from '../../src/services/index.js';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, U, type Harness } from './harness.js';

describe(`/keys check through Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  let orgId: string;
  const actor = (user: string, orgAdmin = false) => slackActor(orgId, user, orgAdmin);
  let key: { id: string; secret: string; projectId: string };
  let seq = 0;

  const refusal = (keyId: string, status: number, errorClass: string, agoMs: number) =>
    h.t.db.usageEvent.create({
      data: {
        id: `use_s${++seq}`, orgId, projectId: key.projectId, keyId, model: 'claude-sonnet-4-5', status, errorClass,
        createdAt: new Date(h.services.deps.now!().getTime() - agoMs),
      },
    });
  const blocksOf = (body: Record<string, unknown>) => JSON.stringify(body.blocks);

  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create beta', U.org);
    await h.ask('/project', 'create gamma', U.org);
    for (const [user, role] of [[U.admin, 'admin'], [U.dev, 'developer'], [U.viewer, 'viewer']] as const) {
      await h.ask('/project', `add beta <@${user}> ${role}`, U.org);
    }
    orgId = (await h.t.db.org.findFirstOrThrow()).id;
    const created = await h.services.keys.create(actor(U.dev), { project: 'beta', name: 'Worker', environment: 'staging', rpm: 30 });
    key = { id: created.key.id, secret: created.secret, projectId: created.key.projectId };
    await h.services.limits.set(actor(U.org, true), 'beta', ['hard=100', 'rpm=600']);
    await h.services.limits.set(actor(U.org, true), 'org', ['hard=5000']);
  });
  afterAll(async () => h?.close());

  it('help lists it', async () => {
    expect((await h.ask('/keys', 'help', U.outsider)).text).toContain('/keys check');
  });

  it('shows status, scope and endpoints, limits with reset, key rpm, recent refusals and what to do', async () => {
    await refusal(key.id, 429, 'rate_limit', 60_000);
    await refusal(key.id, 429, 'rate_limit', 2 * 3_600_000);
    await refusal(key.id, 403, 'permission', 5 * 60_000);
    const r = await h.ask('/keys', `check ${key.id}`, U.viewer);
    expect(r.body.response_type).toBe('ephemeral');
    expect(r.text).toContain(`Key ${key.id} (Worker) in beta: active`);
    const blocks = blocksOf(r.body);
    for (const s of [
      '*active*', 'staging', '`POST /v1/messages`', '`GET /v1/models/{id}`', '30 requests/minute',
      '$0.00 of $100.00 (0 %)', '600 rpm', 'resets <!date^',
      '*Refused, last hour:* 401 ×0 · 403 ×1 · 429 ×1 · spend limit ×0',
      '*Refused, last 24 h:* 401 ×0 · 403 ×1 · 429 ×2 · spend limit ×0', '429 (rate limit)',
      '*What to do:* Rate limited',
    ]) expect(blocks).toContain(s);
    // Org-wide figures are for org admins only.
    expect(blocks).not.toContain('Organisation this month');
    expect(blocksOf((await h.ask('/keys', `check ${key.id}`, U.org)).body)).toContain('*Organisation this month:* $0.00 of $5,000.00');
  });

  it('finds a key by the last 4 characters of its secret, in any printed form', async () => {
    for (const ref of [key.secret.slice(-4), `sk-kw-…${key.secret.slice(-4)}`]) {
      expect((await h.ask('/keys', `check ${ref}`, U.dev)).text).toContain(`Key ${key.id} (Worker)`);
    }
  });

  it('a revoked key: when, by whom, why, and to create a new one', async () => {
    const gone = await h.services.keys.create(actor(U.dev), { project: 'beta', name: 'Gone' });
    await h.services.keys.revoke(actor(U.admin), gone.key.id, 'leaked\n*Status:* fine');
    const r = await h.ask('/keys', `check ${gone.key.id}`, U.dev);
    const blocks = blocksOf(r.body);
    expect(blocks).toContain(`*revoked* <!date^`);
    expect(blocks).toContain(`by <@${U.admin}> — “leaked *Status:* fine”`);
    expect(blocks).toContain('create a new key');
  });

  it('outsiders get exactly the "not found" of a key that does not exist', async () => {
    const missing = `key_${'Q'.repeat(16)}`;
    const byId = await h.ask('/keys', `check ${key.id}`, U.outsider);
    const noId = await h.ask('/keys', `check ${missing}`, U.outsider);
    expect(byId.text).toContain('No key');
    expect(byId.text.replace(key.id, 'ID')).toBe(noId.text.replace(missing, 'ID'));
    const last4 = key.secret.slice(-4);
    const byHint = await h.ask('/keys', `check ${last4}`, U.outsider);
    const noHint = await h.ask('/keys', 'check 0000', U.outsider);
    expect(byHint.text.replace(last4, 'XXXX')).toBe(noHint.text.replace('0000', 'XXXX'));
    expect(byHint.text).not.toContain('Worker');
  });

  it('several keys with those 4 characters: lists the ones you may see and asks for an id', async () => {
    const other = await h.services.keys.create(actor(U.org, true), { project: 'gamma', name: 'Twin' });
    await h.t.db.apiKey.update({ where: { id: other.key.id }, data: { hint: `sk-kw-…${key.secret.slice(-4)}` } });
    const r = await h.ask('/keys', `check ${key.secret.slice(-4)}`, U.org);
    expect(r.text).toContain('Pick one by id');
    expect(blocksOf(r.body)).toContain(key.id);
    expect(blocksOf(r.body)).toContain(other.key.id);
    // A member of beta only sees beta's key, and gets its report.
    expect((await h.ask('/keys', `check ${key.secret.slice(-4)}`, U.dev)).text).toContain(`Key ${key.id}`);
  });

  it('refuses a pasted secret without echoing it (nor logging it), and bad input with the usage', async () => {
    const r = await h.ask('/keys', `check ${key.secret}`, U.dev);
    expect(r.text).toContain('Do not paste secrets');
    expect(JSON.stringify(r.body)).not.toContain(key.secret);
    expect(h.logs.join('')).not.toContain(key.secret);
    expect((await h.ask('/keys', 'check', U.dev)).text).toContain('/keys check <key-id');
  });
});
