import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret, type TotpRecord } from '../../src/domain/totp.js';
import { createHarness, U, viewSubmission, type Harness } from './harness.js';

const code = async (h: Harness, user: string) => {
  const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: user } })) as TotpRecord;
  return generate({ secret: openSecret(h.services.deps.secret, row), epoch: Math.floor(h.services.deps.now!().getTime() / 1000) });
};
const wrongOf = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');

describe('changing limits needs the TOTP step-up (KEYWARD_REQUIRE_2FA=true)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { KEYWARD_REQUIRE_2FA: 'true' } });
    await h.ask('/project', 'create delta', U.org);
  });
  afterAll(async () => h?.close());

  it('unenrolled users are told to enroll first: neither /limits set nor /limits edit changes or opens anything', async () => {
    const from = h.calls.length;
    expect((await h.ask('/limits', 'set delta hard=100', U.org)).text).toContain('/keyward 2fa enroll');
    expect((await h.ask('/limits', 'edit delta', U.org)).text).toContain('/keyward 2fa enroll');
    expect(h.callsTo('views.open', from)).toHaveLength(0);
    expect(await h.t.db.limit.count()).toBe(0);
    // Reading limits needs no code.
    expect((await h.ask('/limits', 'delta', U.org)).text).toContain('Limits of delta');
  });

  it('the edit modal of an enrolled user carries the code field; a wrong code saves nothing, a right one saves', async () => {
    await h.ask('/keyward', '2fa enroll', U.org);
    expect((await h.ask('/keyward', `2fa verify ${await code(h, U.org)}`, U.org)).text).toContain('Two-factor is on');
    h.advance(31_000);
    const { triggerId, responseUrl } = await h.command('/limits', 'edit delta', U.org);
    const open = await h.waitForCall('views.open', 0, (c) => c.body.trigger_id === triggerId);
    const view = open.body.view as { blocks: { block_id: string }[] } & Record<string, unknown>;
    expect(view.blocks.map((b) => b.block_id)).toEqual(['hard', 'soft', 'thresholds', 'channel', 'notify', 'webhook', 'totp']);
    const values = (totp: string) => ({
      hard: { value: { type: 'plain_text_input', value: '300' } },
      soft: { value: { type: 'plain_text_input', value: '' } },
      thresholds: { value: { type: 'plain_text_input', value: '' } },
      channel: { value: { type: 'conversations_select', selected_conversation: null } },
      notify: { value: { type: 'checkboxes', selected_options: [] } },
      webhook: { value: { type: 'plain_text_input', value: '' } },
      totp: { value: { type: 'plain_text_input', value: totp } },
    });
    const good = await code(h, U.org);
    const bad = await h.interact(viewSubmission(U.org, view, 'VLE1', values(wrongOf(good))));
    expect(JSON.parse(bad.text)).toMatchObject({ response_action: 'errors', errors: { totp: expect.any(String) } });
    expect(await h.t.db.limit.count()).toBe(0);
    await h.interact(viewSubmission(U.org, view, 'VLE2', values(good)));
    expect(String((await h.waitForResponse(responseUrl)).text)).toBe('Saved. Limits of delta: hard $300.00, soft none, spent $0.00 this month.');
    expect((await h.t.db.limit.findFirstOrThrow()).hardMicros).toBe(300_000_000n);
  });
});
