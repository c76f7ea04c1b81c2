// The brief's own Python snippet ("Example: ... via API"), run unchanged but for the URL and key,
// with the machine's python3 and requests — proof that /v1/usage is what the brief promised.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { usingPostgres, type TestDatabase } from '../helpers/db.js';
import { messageBody, raw, type GatewayServer, type MockUpstream, type World, gatewaySuite } from './helpers.js';

const pythonWithRequests = spawnSync('python3', ['-c', 'import requests'], { stdio: 'ignore' }).status === 0;

const SNIPPET = (url: string, key: string) => `import requests
headers = {
"x-api-key": "${key}",
"anthropic-version": "2023-06-01"
}
response = requests.get(
"${url}/v1/usage",
headers=headers
)
usage_data = response.json()
print(f"Tokens used this month: {usage_data['total_tokens']}")
`;

// python3 with requests is part of this project's machine image; elsewhere the suite says so by name.
describe.runIf(pythonWithRequests)(`the brief's Python usage snippet (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  gatewaySuite((s) => ({ t, up, gw, w } = s));

  it('prints the token count of the key\'s project this month', async () => {
    const { secret } = await w.key('python', { scope: 'full' });
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() })).status).toBe(200);
    await gw.gateway.flush();
    const { stdout } = await promisify(execFile)('python3', ['-c', SNIPPET(gw.url, secret)]);
    const events = await t.db.usageEvent.findMany();
    const total = events.reduce((n, e) => n + e.inputTokens + e.outputTokens + e.cacheReadTokens + e.cacheWriteTokens, 0);
    expect(total).toBeGreaterThan(0);
    expect(stdout.trim()).toBe(`Tokens used this month: ${total}`);
  });
});
