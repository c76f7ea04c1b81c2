import { describe, expect, it } from 'vitest';
import { usingPostgres, type TestDatabase } from '../helpers/db.js';
import { gatewaySuite, messageBody, raw, world, type GatewayServer, type MockUpstream, type World } from './helpers.js';

const HOUR = 3_600_000;

/** The 401s of revoked, expired and rotated-out secrets are usage events of their key, so `keys check` sees them. */
describe(`gateway: refusals of known keys are recorded (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  gatewaySuite((s) => ({ t, up, gw, w } = s));

  const send = (key: string, path = '/v1/messages') =>
    raw(`${gw.url}${path}`, path === '/v1/messages' ? { method: 'POST', key, body: messageBody() } : { key });
  const refusalsOf = async (keyId: string) => {
    await gw.gateway.flush();
    return t.db.usageEvent.findMany({ where: { keyId, status: 401 }, orderBy: { createdAt: 'asc' } });
  };

  it('a revoked key: each 401 is recorded against it, on every route', async () => {
    const { id, secret } = await w.key('rec');
    await w.services.keys.revoke(w.admin, id, 'test');
    await gw.gateway.refresh();
    const before = up.seen.length;
    expect((await send(secret)).status).toBe(401);
    expect((await send(secret, '/v1/models')).status).toBe(401);
    expect(up.seen.length).toBe(before);
    const events = await refusalsOf(id);
    expect(events.map((e) => e.errorClass)).toEqual(['key_inactive', 'key_inactive']);
    expect(events[0]).toMatchObject({ costMicros: 0n, inputTokens: 0, outputTokens: 0 });

    const report = await w.services.keyCheck.check(w.admin, id);
    expect(report.kind === 'report' && report.report.refusals.lastHour.unauthorized).toBe(2);
    expect(report.kind === 'report' && report.report.refusals.last?.reason).toBe('key revoked');
  });

  it('an expired key and a secret past its rotation grace: recorded as key_expired', async () => {
    const past = await world(t, () => new Date(Date.now() - 48 * HOUR));
    const expired = await past.key('rec', { expiresInMs: 24 * HOUR, name: 'expired' });
    expect((await send(expired.secret)).status).toBe(401);
    expect((await refusalsOf(expired.id)).map((e) => e.errorClass)).toEqual(['key_expired']);

    const rotated = await w.key('rec', { name: 'rotated' });
    const earlier = await world(t, () => new Date(Date.now() - 2 * HOUR));
    await earlier.services.keys.rotate(earlier.admin, rotated.id, HOUR);
    await gw.gateway.refresh();
    expect((await send(rotated.secret)).status).toBe(401);
    expect((await refusalsOf(rotated.id)).map((e) => e.errorClass)).toEqual(['key_expired']);
    const check = await w.services.keyCheck.check(w.admin, rotated.id);
    if (check.kind !== 'report') throw new Error('expected a report');
    expect(check.report.status).toBe('active');
    expect(check.report.refusals.last?.reason).toContain('rotation');
    expect(check.report.advice).toContain('current secret');
  });
});
