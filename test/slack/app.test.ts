import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services/index.js';
import type { Db } from '../../src/db/client.js';
import { createSlackApp } from '../../src/slack/app.js';

// Construction only: no database or network is touched until a request arrives or start() runs.
const logger = createLogger('silent');
const services = createServices({ db: {} as Db, secret: 'x'.repeat(40), logger });
const config = (env: Record<string, string>) =>
  loadConfig({ NODE_ENV: 'test', KEYWARD_SECRET: 'x'.repeat(40), SLACK_BOT_TOKEN: 'xoxb-1', ...env }, { generateSecret: false });

describe('createSlackApp modes', () => {
  it('HTTP mode exposes a request listener for the shared server', () => {
    const s = createSlackApp({ config: config({ SLACK_SIGNING_SECRET: 'sig' }), services, logger });
    expect(typeof s.requestListener).toBe('function');
  });

  it('Socket Mode has no request listener (start() connects instead)', () => {
    const s = createSlackApp({ config: config({ SLACK_APP_TOKEN: 'xapp-1-abc' }), services, logger });
    expect(s.requestListener).toBeNull();
  });

  it('names the missing variable', () => {
    expect(() => createSlackApp({ config: config({}), services, logger })).toThrow(/SLACK_SIGNING_SECRET/);
    const noToken = loadConfig({ NODE_ENV: 'test', KEYWARD_SECRET: 'x'.repeat(40), SLACK_SIGNING_SECRET: 'sig' }, { generateSecret: false });
    expect(() => createSlackApp({ config: noToken, services, logger })).toThrow(/SLACK_BOT_TOKEN/);
  });
});

describe('manifest.yml', () => {
  const manifest = readFileSync('manifest.yml', 'utf8');
  it('declares the three commands with escaped mentions, the events, App Home and the scopes the code uses', () => {
    for (const command of ['/project', '/keys', '/keyward']) {
      const block = manifest.split('- command: ').find((b) => b.startsWith(command))!;
      expect(block).toBeDefined();
      expect(block).toContain('should_escape: true');
      expect(block).toContain('usage_hint:');
      expect(block).toContain('https://YOUR_HOST/slack/events');
    }
    for (const scope of ['commands', 'chat:write', 'im:write', 'users:read']) expect(manifest).toMatch(new RegExp(`- ${scope}\\s`));
    for (const event of ['app_home_opened', 'user_change', 'team_leave']) expect(manifest).toMatch(new RegExp(`- ${event}\\s`));
    expect(manifest).toMatch(/home_tab_enabled: true/);
    expect(manifest).toMatch(/interactivity:\s*\n\s*#.*\n\s*is_enabled: true/);
  });
});
