/**
 * Import rules for src/ (`npm run lint`, run in CI). The layers, from the bottom:
 * domain (pure) ← db ← services ← jobs ← adapters (slack, gateway, cli); config and charts sit
 * beside domain; main.ts composes everything.
 *
 * KNOWN_EXCEPTIONS lists the imports that still break a rule, one file pair each. The list only
 * shrinks: any import not on it that breaks a rule fails the lint.
 */

// Jobs still render Slack messages and reuse Slack handlers; the CLI reuses Slack's review fan-out.
// Each of these moves behind the notifier port next.
const KNOWN_EXCEPTIONS = [
  { from: 'src/jobs/alerts.ts', to: 'src/slack/views/alerts.ts' },
  { from: 'src/jobs/recipients.ts', to: 'src/slack/views/alerts.ts' },
  { from: 'src/jobs/digest.ts', to: 'src/slack/views/digest.ts' },
  { from: 'src/jobs/reminders.ts', to: 'src/slack/views/digest.ts' },
  { from: 'src/jobs/expiry.ts', to: 'src/slack/views/common.ts' },
  { from: 'src/jobs/expiry.ts', to: 'src/slack/delivery.ts' },
  { from: 'src/jobs/governance.ts', to: 'src/slack/admins.ts' },
  { from: 'src/jobs/governance.ts', to: 'src/slack/context.ts' },
  { from: 'src/jobs/governance.ts', to: 'src/slack/handlers/approvals.ts' },
  { from: 'src/jobs/governance.ts', to: 'src/slack/handlers/reviews.ts' },
  { from: 'src/cli/commands/reviews.ts', to: 'src/slack/admins.ts' },
  { from: 'src/cli/commands/reviews.ts', to: 'src/slack/context.ts' },
  { from: 'src/cli/commands/reviews.ts', to: 'src/slack/handlers/reviews.ts' },
];

const exact = (path) => `^${path.replace(/[.]/g, '\\.')}$`;
const ADAPTERS = ['slack', 'gateway', 'cli'];

/**
 * One rule, split so KNOWN_EXCEPTIONS apply per file pair: the excepted source files are checked by
 * a copy of the rule that also allows their listed targets (dependency-cruiser has no pair filter).
 */
function layer(name, comment, from, to) {
  const rule = { name, comment, severity: 'error', from, to };
  const files = [...new Set(KNOWN_EXCEPTIONS.map((e) => e.from))].filter((file) => new RegExp(from.path).test(file));
  if (files.length === 0) return [rule];
  return [
    { ...rule, from: { ...from, pathNot: files.map(exact) } },
    ...files.map((file) => ({
      ...rule,
      from: { path: exact(file) },
      to: { ...to, pathNot: [...[to.pathNot ?? []].flat(), ...KNOWN_EXCEPTIONS.filter((e) => e.from === file).map((e) => exact(e.to))] },
    })),
  ];
}

const forbidden = [
  ...layer('domain-is-pure', 'src/domain imports nothing of ours outside src/domain.',
    { path: '^src/domain/' }, { path: '^src/', pathNot: '^src/domain/' }),
  ...layer('services-below-adapters', 'src/services imports only domain, db, config, charts and other services.',
    { path: '^src/services/' }, { path: '^src/', pathNot: '^src/(domain|db|config|charts|services)/' }),
  ...layer('db-below-services', 'src/db imports only domain, config and db.',
    { path: '^src/db/' }, { path: '^src/', pathNot: '^src/(domain|config|db)/' }),
  ...ADAPTERS.flatMap((adapter) =>
    layer(`${adapter}-imports-no-adapter`, `src/${adapter} never imports another adapter (slack, gateway, cli).`,
      { path: `^src/${adapter}/` }, { path: `^src/(${ADAPTERS.filter((a) => a !== adapter).join('|')})/` })),
  ...layer('jobs-import-no-adapter', 'src/jobs reach Slack only through the notifier port: no slack, gateway or cli.',
    { path: '^src/jobs/' }, { path: `^src/(${ADAPTERS.join('|')})/` }),
  { name: 'no-circular', comment: 'No import cycles.', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden,
  options: {
    // Type-only imports count: a layer must not even borrow another layer's types.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/db/generated/' },
  },
};
