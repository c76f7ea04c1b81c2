import type { Command } from './spec.js';

const GLOBAL = [
  '  --json          machine-readable output (stable field names; never secret hashes)',
  '  --org <id>      the organisation (Slack team id or org id) when the database holds several',
  '  -h, --help      help for any command',
];

export function overview(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    'keyward: manage projects, roles and Claude API keys from the shell (same rules as the Slack app).',
    '',
    'Usage: keyward <command> [arguments] [--json] [--org <id>]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '  help [command]'.padEnd(width + 4) + 'Help for a command, e.g. keyward help keys create',
    '',
    'Options:',
    ...GLOBAL,
    '',
    'The CLI uses the same DATABASE_URL and KEYWARD_SECRET as the server (a .env file in the',
    'current folder is read), acts as an organisation admin and is audited as cli:<your OS user>.',
    'Exit codes: 0 done, 1 refused (not found, forbidden, conflict, failed check), 2 usage error,',
    '78 invalid configuration.',
    '',
    'Examples:',
    '  keyward projects create support-bot Customer support assistant',
    '  keyward projects add support-bot U012ABC3DEF developer',
    '  keyward keys create support-bot Production App --env prod --expires 90d',
    '  keyward doctor',
  ].join('\n');
}

/** Help for a group (`keyward help keys`): its commands with usage lines. */
export function groupHelp(group: string, commands: Command[]): string {
  return [
    `keyward ${group}: ${commands.length} commands`,
    '',
    ...commands.flatMap((c) => [`  keyward ${c.path.join(' ')} ${c.args}`.trimEnd(), `      ${c.summary}`]),
    '',
    'Examples:',
    ...commands.map((c) => `  ${c.examples[0]}`),
    '',
    `Run keyward help ${group} <command> for details.`,
  ].join('\n');
}

export function commandHelp(c: Command): string {
  return [
    `Usage: keyward ${c.path.join(' ')} ${c.args}`.trimEnd(),
    '',
    c.summary,
    ...(c.details ? ['', c.details] : []),
    '',
    'Options:',
    ...GLOBAL.filter((line) => c.needs === 'org' || !line.includes('--org')),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
  ].join('\n');
}
