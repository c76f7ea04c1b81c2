import { describe, expect, it } from 'vitest';
import { ACTIONS, can, canManageKey, parseRole, roleLabel, type Action, type Role, type Subject } from '../../src/domain/roles.js';
import { LONG, label, refusal } from './helpers.js';

// The expected matrix, written out by hand from the issue (section 4), not derived from the code:
// org admins do everything; project Admins manage members, limits, settings and all keys;
// Developers create keys and manage their own; Viewers list keys and see usage; others nothing.
type Who = 'orgAdmin' | 'admin' | 'developer' | 'viewer' | 'outsider';
const Y = true;
const N = false;
const EXPECTED: Record<Action, Record<Who, boolean>> = {
  //                   orgAdmin admin developer viewer outsider
  'project.create':   { orgAdmin: Y, admin: N, developer: N, viewer: N, outsider: N },
  'project.archive':  { orgAdmin: Y, admin: N, developer: N, viewer: N, outsider: N },
  'project.view':     { orgAdmin: Y, admin: Y, developer: Y, viewer: Y, outsider: N },
  'project.settings': { orgAdmin: Y, admin: Y, developer: N, viewer: N, outsider: N },
  'member.manage':    { orgAdmin: Y, admin: Y, developer: N, viewer: N, outsider: N },
  'limits.manage':    { orgAdmin: Y, admin: Y, developer: N, viewer: N, outsider: N },
  'key.create':       { orgAdmin: Y, admin: Y, developer: Y, viewer: N, outsider: N },
  'key.list':         { orgAdmin: Y, admin: Y, developer: Y, viewer: Y, outsider: N },
  'key.manage.own':   { orgAdmin: Y, admin: Y, developer: Y, viewer: N, outsider: N },
  'key.manage.any':   { orgAdmin: Y, admin: Y, developer: N, viewer: N, outsider: N },
  'usage.view':       { orgAdmin: Y, admin: Y, developer: Y, viewer: Y, outsider: N },
  'audit.view':       { orgAdmin: Y, admin: Y, developer: N, viewer: N, outsider: N },
};

const SUBJECTS: Record<Who, Subject> = {
  orgAdmin: { orgAdmin: true, role: null },
  admin: { orgAdmin: false, role: 'admin' },
  developer: { orgAdmin: false, role: 'developer' },
  viewer: { orgAdmin: false, role: 'viewer' },
  outsider: { orgAdmin: false, role: null },
};

describe('permission matrix', () => {
  it('the expected table covers exactly the actions the code knows', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...ACTIONS].sort());
  });

  const cells = ACTIONS.flatMap((action) =>
    (Object.keys(SUBJECTS) as Who[]).map((who) => [action, who, EXPECTED[action][who]] as const),
  );
  it.each(cells)('%s by %s → %s', (action, who, allowed) => {
    expect(can(SUBJECTS[who], action)).toBe(allowed);
  });

  it('an org admin who is also a project member keeps every right', () => {
    for (const role of ['admin', 'developer', 'viewer'] as Role[]) {
      for (const action of ACTIONS) expect(can({ orgAdmin: true, role }, action)).toBe(true);
    }
  });
});

describe('canManageKey (revoke / rotate)', () => {
  // [who, own key?, expected]
  const TABLE: [Who, boolean, boolean][] = [
    ['orgAdmin', true, Y], ['orgAdmin', false, Y],
    ['admin', true, Y], ['admin', false, Y],
    ['developer', true, Y], ['developer', false, N],
    ['viewer', true, N], ['viewer', false, N],
    ['outsider', true, N], ['outsider', false, N],
  ];
  it.each(TABLE)('%s, own key %s → %s', (who, own, allowed) => {
    expect(canManageKey(SUBJECTS[who], 'U_ME', own ? 'U_ME' : 'U_OTHER')).toBe(allowed);
  });

  it('an actor without a Slack user id owns nothing (unless org admin)', () => {
    expect(canManageKey(SUBJECTS.developer, null, 'U_ME')).toBe(false);
    expect(canManageKey(SUBJECTS.orgAdmin, null, 'U_ME')).toBe(true);
  });

  it('ownership compares exact ids', () => {
    expect(canManageKey(SUBJECTS.developer, 'u_me', 'U_ME')).toBe(false);
    expect(canManageKey(SUBJECTS.developer, 'U_ME ', 'U_ME')).toBe(false);
  });
});

describe('parseRole', () => {
  it.each([
    ['admin', 'admin'], ['Developer', 'developer'], ['  VIEWER ', 'viewer'],
  ])('%j → %s', (raw, role) => expect(parseRole(raw)).toBe(role));

  it.each(['', ' ', 'owner', 'admins', 'ädmin', '"admin"', "admin'", LONG, 'admin developer'].map((raw) => ({ raw, l: label(raw) })))(
    'refuses $l with a short message naming the choices',
    ({ raw }) => {
      const e = refusal(() => parseRole(raw));
      expect(e.message).toContain('admin, developer, viewer');
      expect(e.message.length).toBeLessThan(200);
    },
  );

  it('labels roles for display', () => {
    expect(roleLabel('admin')).toBe('Admin');
    expect(roleLabel('developer')).toBe('Developer');
    expect(roleLabel('viewer')).toBe('Viewer');
  });
});
