import { describe, expect, it, vi } from 'vitest';
import { usingPostgres, type TestDatabase } from '../helpers/db.js';
import { messageBody, raw, until, world, type GatewayServer, type MockUpstream, type World, gatewaySuite } from './helpers.js';

const HOUR = 3_600_000;

describe(`gateway authentication and scopes (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  gatewaySuite((s) => ({ t, up, gw, w } = s));

  const send = (key: string | undefined, path = '/v1/messages') =>
    raw(`${gw.url}${path}`, path === '/v1/messages' ? { method: 'POST', key, body: messageBody() } : { key });

  const expectAuthError = (res: Awaited<ReturnType<typeof send>>) => {
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(res.json.request_id).toMatch(/^req_/);
    expect(res.headers.get('request-id')).toBe(res.json.request_id);
  };

  it('missing, malformed and unknown keys → 401 authentication_error, nothing forwarded', async () => {
    const before = up.seen.length;
    expectAuthError(await send(undefined));
    expectAuthError(await send('not-a-key'));
    expectAuthError(await send(['sk', 'ant', 'api03', 'realanthropickeyshape000000000000000'].join('-')));
    expectAuthError(await send(`sk-kw-${'A'.repeat(40)}`));
    expectAuthError(await send(`sk-kw-${'A'.repeat(40)}`)); // negatively cached answer is the same
    expect(up.seen.length).toBe(before);
  });

  it('a revoked key stops working on a running gateway within 1 s', async () => {
    const { id, secret } = await w.key('auth');
    expect((await send(secret)).status).toBe(200); // now cached
    await w.services.keys.revoke(w.admin, id, 'test');
    const revokedAt = Date.now();
    const res = await until(() => send(secret), (r) => r.status === 401, 2000);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expectAuthError(res);
    expect(res.json.error.message).toContain('revoked');
  });

  it('unknown keys are remembered briefly, so repeating one does not hit the database again', async () => {
    const spy = vi.spyOn(t.db.apiKey, 'findFirst');
    const bogus = `sk-kw-${'B'.repeat(40)}`;
    for (let i = 0; i < 5; i++) expectAuthError(await send(bogus));
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('an expired key → 401', async () => {
    const past = await world(t, () => new Date(Date.now() - 48 * HOUR));
    const { secret } = await past.key('auth', { expiresInMs: 24 * HOUR, name: 'expired' });
    const res = await send(secret);
    expectAuthError(res);
    expect(res.json.error.message).toContain('expired');
  });

  it('after a rotation the old secret works until the grace end, the new one at once', async () => {
    const { id, secret: old } = await w.key('auth', { name: 'rot' });
    expect((await send(old)).status).toBe(200);
    const { secret: fresh } = await w.services.keys.rotate(w.admin, id, HOUR);
    await gw.gateway.refresh();
    expect((await send(fresh)).status).toBe(200);
    expect((await send(old)).status).toBe(200);
  });

  it('the old secret is refused once the grace period is over', async () => {
    const { id, secret: old } = await w.key('auth', { name: 'rot2' });
    // Rotate "2 hours ago" with a 1 hour grace: the grace ended an hour ago.
    const past = await world(t, () => new Date(Date.now() - 2 * HOUR));
    const { secret: fresh } = await past.services.keys.rotate(past.admin, id, HOUR);
    await gw.gateway.refresh();
    expect((await send(fresh)).status).toBe(200);
    expectAuthError(await send(old));
  });

  it('rotating with zero grace ends the old secret at once (cache invalidated)', async () => {
    const { id, secret: old } = await w.key('auth', { name: 'rot3' });
    expect((await send(old)).status).toBe(200);
    await w.services.keys.rotate(w.admin, id, 0);
    const res = await until(() => send(old), (r) => r.status === 401, 2000);
    expectAuthError(res);
  });

  it('scopes: inference → messages, count_tokens, models; read-only → usage, models; full → all', async () => {
    const inference = (await w.key('scopes', { scope: 'inference' })).secret;
    const readOnly = (await w.key('scopes', { scope: 'read-only' })).secret;
    const full = (await w.key('scopes', { scope: 'full' })).secret;
    const count = (key: string) => raw(`${gw.url}/v1/messages/count_tokens`, { method: 'POST', key, body: messageBody() });

    expect((await send(inference)).status).toBe(200);
    expect((await count(inference)).status).toBe(200);
    expect((await send(inference, '/v1/models')).status).toBe(200);
    const denied = await send(inference, '/v1/usage');
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(denied.json.error.message).toContain('full or read-only');

    expect((await send(readOnly, '/v1/usage')).status).toBe(200);
    expect((await send(readOnly, '/v1/models/claude-haiku-4-5')).status).toBe(200);
    const noInference = await send(readOnly);
    expect(noInference.status).toBe(403);
    expect(noInference.json.error.message).toContain('full or inference');
    expect((await count(readOnly)).status).toBe(403);

    for (const path of ['/v1/messages', '/v1/usage', '/v1/models']) expect((await send(full, path)).status).toBe(200);
  });
});
