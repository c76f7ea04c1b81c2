import { context, header, section, type Message } from './common.js';

const PROJECT = [
  '`/project create <name> [description...]` — new project; you become its Admin _(org admins)_',
  '`/project list` — projects you can see, your role and active keys',
  '`/project show <name>` — members, alert channel, key count',
  '`/project add <name> @user <admin|developer|viewer>` — add a member _(project Admins)_',
  '`/project role <name> @user <role>` — change a member’s role _(project Admins)_',
  '`/project remove <name> @user` — remove a member; a confirmation lists their keys: revoke them (default) or transfer them to an Admin or Developer _(project Admins)_',
  '`/project channel <name> #channel` — where alerts go _(project Admins)_',
  '`/project archive <name>` — archive and revoke its keys _(org admins)_',
  '`/project policy <name> approval=none|prod|always` — which Developer keys need an Admin’s approval (default prod: `--env prod` or `--scope full` keys) _(project Admins)_',
];
const PROJECT_EXAMPLES = '`/project create support-bot "Claude for the support inbox"` · `/project add support-bot @alice developer`';

const KEYS = [
  '`/keys create` — opens a form',
  '`/keys create <project> <name...> [--scope full|inference|read-only] [--env dev|staging|prod] [--expires <N>d] [--rpm <N>]`',
  '`/keys list [project]` — active keys you can see',
  '`/keys requests` — pending key requests (approve or deny from the DM); add `--reason "..."` to a create that needs approval',
  '`/keys show <key-id>` — details of one key',
  '`/keys check <key-id or last 4 characters of the secret>` — why a key fails: status, scope, limits and spend, recent 401/403/429 and spend-limit refusals, what to do',
  '`/keys revoke <key-id>` — asks to confirm, with an optional reason',
  '`/keys rotate <key-id> [--grace <N>h]` — new secret, same key; the old one works for the grace period (default 24h)',
];
const KEYS_EXAMPLES =
  '`/keys create support-bot Production App --scope inference --env prod --expires 90d` · `/keys rotate key_4fT9… --grace 2h`';

const SECRETS =
  'Secrets arrive only in your DM with keyward: shown once, plus a *Reveal* button valid for 15 minutes. keyward stores only a hash.';

const build = (title: string, lines: string[], examples: string): Message => ({
  text: `${title}\n${lines.join('\n')}\nExamples: ${examples}`,
  blocks: [header(title), section(lines.join('\n')), context(`Examples: ${examples}`)],
});

export const projectHelp = () => build('/project — projects and members', PROJECT, PROJECT_EXAMPLES);

export const keysHelp = (): Message => {
  const m = build('/keys — API keys', KEYS, KEYS_EXAMPLES);
  return { text: `${m.text}\n${SECRETS}`, blocks: [...m.blocks!, context(SECRETS)] };
};

export const keywardHelp = (): Message => ({
  text: 'keyward manages your organisation’s Claude API keys. Commands: /project, /keys.',
  blocks: [
    header('keyward — Claude API keys for your organisation'),
    section('Organise work in *projects*; members are *Admin*, *Developer* or *Viewer*. Org admins create and archive projects.'),
    section(`*Projects*\n${PROJECT.join('\n')}`),
    section(`*Keys*\n${KEYS.join('\n')}`),
    section(
      '*Usage and limits*\n`/usage [project|org] [day|week|month|quarter] [--chart]` · `/usage statement <project> <YYYY-MM>`\n' +
        '`/limits [project|org]` · `/limits set <project|org> hard=<usd> soft=<usd> thresholds=50,75,90,100 channel=#channel notify=channel,admins,webhook` · `/limits edit <project>`\n' +
        '`/keyward 2fa enroll|verify <code>|disable <code>|status` · `/keyward 2fa reset @user` _(org admins)_ — two-factor for sensitive actions\n' +
        '`/keyward review start [--due <N>d]|status|close --unreviewed keep|revoke` — access reviews · `/keyward audit [project] [--since 7d] [--actor @user] [--csv]`\n' +
        '`/keyward run <job> [--dry-run]` — run a scheduled job now (alerts, digest, reminders, statements, expiry, …) _(org admins)_\n' +
        '`/keyward settings [channel=#channel] [digest="0 9 * * 1"|off|default] [digest-channel=#channel]` _(org admins)_ · `/keyward settings <project> digest-channel=#channel|default`',
    ),
    context(`Examples: ${PROJECT_EXAMPLES} · ${KEYS_EXAMPLES}`),
    context(SECRETS),
  ],
});
