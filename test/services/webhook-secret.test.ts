import { describe, expect, it } from 'vitest';
import { deriveWebhookSecret, signWebhook, verifyWebhook } from '../../src/domain/webhooks.js';
import { SERVER_SECRET, seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();

describe('webhook signing secret', () => {
  it('is shown to whoever manages the limit, and verifies what keyward signs; members without the right never see it', async () => {
    const team = await seedProject(w, 'hooked');
    const none = await w.s.limits.show(team.admin, 'hooked');
    expect(none.webhookSigningSecret).toBeNull(); // no webhook configured yet

    const set = await w.s.limits.set(team.admin, 'hooked', ['notify=channel,webhook', 'webhook=https://hooks.example.com/kw']);
    const secret = set.webhookSigningSecret!;
    expect(secret).toMatch(/^whsec_/);
    expect((await w.s.limits.show(team.admin, 'hooked')).webhookSigningSecret).toBe(secret);
    expect((await w.s.limits.show(team.viewer, 'hooked')).webhookSigningSecret).toBeNull();
    expect((await w.s.limits.show(team.dev, 'hooked')).webhookSigningSecret).toBeNull();

    // A receiver holding that secret accepts keyward's signature, and rejects one under another server secret.
    const body = JSON.stringify({ type: 'limit.threshold', project: 'hooked' });
    const now = new Date();
    expect(verifyWebhook({ secret, body, headers: signWebhook(secret, body, now), now }).ok).toBe(true);
    const foreign = deriveWebhookSecret(`${SERVER_SECRET}-other`, w.orgId);
    expect(verifyWebhook({ secret, body, headers: signWebhook(foreign, body, now), now }).ok).toBe(false);
  });
});
