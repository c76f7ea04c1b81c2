import { context, divider, header, inline, roleName, section, type Block, type HomeView } from './common.js';
import { keyLine, type KeyRowView } from './keys.js';
import { packLines, type ProjectRowView } from './projects.js';

/** App Home: the user's projects (role, active keys) and their own keys. ≤ 100 blocks by construction. */
export function homeView(input: { userId: string; orgAdmin: boolean; projects: ProjectRowView[]; myKeys: KeyRowView[] }): HomeView {
  const blocks: Block[] = [header('keyward'), context(`Hi <@${input.userId}>${input.orgAdmin ? ' — you are an organisation admin' : ''}. Commands: \`/project\`, \`/keys\`, \`/keyward help\`.`)];
  blocks.push(divider(), header(`Your projects (${input.projects.length})`));
  if (input.projects.length === 0) blocks.push(section('You are not in any project yet. Ask a project Admin to add you.'));
  else {
    const lines = input.projects.map(
      (p) => `• *${p.name}* — ${roleName(p.myRole, input.orgAdmin)} · ${p.activeKeys} active key${p.activeKeys === 1 ? '' : 's'}${p.description ? ` — ${inline(p.description, 80)}` : ''}`,
    );
    const { blocks: b, shown } = packLines(lines, 30);
    blocks.push(...b);
    if (shown < lines.length) blocks.push(context(`…and ${lines.length - shown} more: \`/project list\``));
  }
  blocks.push(divider(), header(`Your active keys (${input.myKeys.length})`));
  if (input.myKeys.length === 0) blocks.push(section('You have no active keys. Create one with `/keys create`.'));
  else {
    const { blocks: b, shown } = packLines(input.myKeys.map(keyLine), 40);
    blocks.push(...b);
    if (shown < input.myKeys.length) blocks.push(context(`…and ${input.myKeys.length - shown} more: \`/keys list\``));
  }
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
