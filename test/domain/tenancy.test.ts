import { describe, expect, it } from 'vitest';
import { isSlackAdminOf, tenantOf, type Installation } from '../../src/domain/tenancy.js';

const workspace: Installation = { teamId: 'T1', enterpriseId: null, enterpriseInstall: false };
const inGrid: Installation = { teamId: 'T1', enterpriseId: 'E1', enterpriseInstall: false };
const orgWide: Installation = { teamId: 'E1', enterpriseId: 'E1', enterpriseInstall: true };

describe('tenantOf', () => {
  it('a workspace install serves its own team only, plus the allow-list', () => {
    expect(tenantOf(workspace, [], { teamId: 'T1' })).toBe('T1');
    expect(tenantOf(workspace, [], { teamId: 'T2' })).toBeNull();
    expect(tenantOf(workspace, [], {})).toBeNull();
    expect(tenantOf(workspace, [], { teamId: null, enterpriseId: null })).toBeNull();
    expect(tenantOf(workspace, ['T2'], { teamId: 'T2' })).toBe('T2');
    expect(tenantOf(workspace, ['T2'], { teamId: 'T3' })).toBeNull();
  });

  it('a workspace install inside a Grid stays that workspace: its enterprise does not open the others', () => {
    expect(tenantOf(inGrid, [], { teamId: 'T1', enterpriseId: 'E1' })).toBe('T1');
    expect(tenantOf(inGrid, [], { teamId: 'T2', enterpriseId: 'E1' })).toBeNull();
  });

  it('an org-wide install maps every workspace of its enterprise to one tenant, and nothing else', () => {
    expect(tenantOf(orgWide, [], { teamId: 'T1', enterpriseId: 'E1' })).toBe('E1');
    expect(tenantOf(orgWide, [], { teamId: 'T9', enterpriseId: 'E1' })).toBe('E1');
    expect(tenantOf(orgWide, [], { teamId: null, enterpriseId: 'E1' })).toBe('E1');
    expect(tenantOf(orgWide, [], { teamId: 'T1', enterpriseId: 'E2' })).toBeNull();
    expect(tenantOf(orgWide, [], { teamId: 'E1' })).toBeNull(); // a team id equal to the enterprise id is no match
  });

  it('an allow-listed enterprise is one tenant; an allow-listed team inside another enterprise is its own', () => {
    expect(tenantOf(workspace, ['E7'], { teamId: 'T5', enterpriseId: 'E7' })).toBe('E7');
    expect(tenantOf(workspace, ['T5'], { teamId: 'T5', enterpriseId: 'E7' })).toBe('T5');
  });
});

describe('isSlackAdminOf', () => {
  it("trusts a workspace's admin and owner flags only for that workspace's users", () => {
    expect(isSlackAdminOf({ team_id: 'T1', is_admin: true }, 'T1')).toBe(true);
    expect(isSlackAdminOf({ team_id: 'T1', is_owner: true }, 'T1')).toBe(true);
    expect(isSlackAdminOf({ team_id: 'T1', is_primary_owner: true }, 'T1')).toBe(true);
    expect(isSlackAdminOf({ team_id: 'T1', is_admin: false }, 'T1')).toBe(false);
    expect(isSlackAdminOf({ team_id: 'T2', is_admin: true, is_owner: true }, 'T1')).toBe(false);
    expect(isSlackAdminOf({ is_admin: true }, 'T1')).toBe(false);
    expect(isSlackAdminOf(undefined, 'T1')).toBe(false);
  });

  it("an enterprise org trusts the enterprise's admins and owners, not a workspace admin", () => {
    expect(isSlackAdminOf({ team_id: 'T1', is_admin: false, enterprise_user: { enterprise_id: 'E1', is_admin: true } }, 'E1')).toBe(true);
    expect(isSlackAdminOf({ team_id: 'T1', enterprise_user: { enterprise_id: 'E1', is_owner: true } }, 'E1')).toBe(true);
    expect(isSlackAdminOf({ team_id: 'T1', is_admin: true, enterprise_user: { enterprise_id: 'E1', is_admin: false } }, 'E1')).toBe(false);
    expect(isSlackAdminOf({ team_id: 'T1', is_admin: true, enterprise_user: { enterprise_id: 'E2', is_admin: true } }, 'E1')).toBe(false);
  });
});
