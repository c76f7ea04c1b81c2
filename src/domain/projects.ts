import { invalid } from './errors.js';

// Starts with a letter or digit so a name can never be mistaken for a flag (`--env`, `-h`).
const NAME = /^[a-z0-9][a-z0-9-]{1,39}$/;

export function parseProjectName(raw: string): string {
  const name = raw.trim();
  if (!name) throw invalid('Name the project, e.g. `support-bot`.');
  if (!NAME.test(name)) {
    throw invalid(
      `"${name.slice(0, 60)}" is not a valid project name: use 2–40 lowercase letters, digits and "-" (not first), e.g. \`support-bot\`.`,
    );
  }
  return name;
}

export function parseDescription(raw: string): string {
  const text = raw.trim();
  if (text.length > 500) throw invalid(`Descriptions are at most 500 characters (got ${text.length}).`);
  return text;
}

export const APPROVAL_POLICIES = ['none', 'prod', 'always'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];
