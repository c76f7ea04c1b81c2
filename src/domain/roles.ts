import { echo, invalid } from './errors.js';

export const ROLES = ['admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function parseRole(raw: string): Role {
  const role = raw.trim().toLowerCase();
  if ((ROLES as readonly string[]).includes(role)) return role as Role;
  throw invalid(`Unknown role "${echo(raw)}". Use one of: admin, developer, viewer.`);
}

/** Everything that is permission-checked. */
export const ACTIONS = [
  'project.create',
  'project.archive',
  'project.view',
  'project.settings', // alert channel, description, approval policy
  'member.manage',
  'limits.manage',
  'key.create',
  'key.list',
  'key.manage.own', // revoke / rotate keys one owns
  'key.manage.any', // revoke / rotate any key of the project
  'usage.view',
  'audit.view',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Who is asking, relative to one project. `role` null = not a member. */
export interface Subject {
  orgAdmin: boolean;
  role: Role | null;
}

const BY_ROLE: Record<Role, readonly Action[]> = {
  admin: [
    'project.view', 'project.settings', 'member.manage', 'limits.manage', 'key.create', 'key.list',
    'key.manage.own', 'key.manage.any', 'usage.view', 'audit.view',
  ],
  developer: ['project.view', 'key.create', 'key.list', 'key.manage.own', 'usage.view'],
  viewer: ['project.view', 'key.list', 'usage.view'],
};

/** The permission matrix: org admins may do everything; project roles as above; others nothing. */
export function can(subject: Subject, action: Action): boolean {
  if (subject.orgAdmin) return true;
  if (!subject.role) return false;
  return BY_ROLE[subject.role].includes(action);
}

/** May `subject` revoke or rotate a key owned by `ownerId`? */
export function canManageKey(subject: Subject, actorUserId: string | null, ownerId: string): boolean {
  if (can(subject, 'key.manage.any')) return true;
  return actorUserId !== null && actorUserId === ownerId && can(subject, 'key.manage.own');
}

export const roleLabel = (role: Role) => role[0]!.toUpperCase() + role.slice(1);
