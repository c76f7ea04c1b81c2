import { invalid } from './errors.js';

const NAME = /^[a-z0-9-]{2,40}$/;

export function parseProjectName(raw: string): string {
  const name = raw.trim();
  if (!name) throw invalid('Name the project, e.g. `support-bot`.');
  if (!NAME.test(name)) {
    throw invalid(
      `"${name.slice(0, 60)}" is not a valid project name: use 2–40 lowercase letters, digits and "-", e.g. \`support-bot\`.`,
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
