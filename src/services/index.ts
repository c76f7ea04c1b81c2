import { ApprovalService } from './approvals.js';
import type { ServiceDeps } from './context.js';
import { KeyCheckService } from './key-check.js';
import { KeyService } from './keys.js';
import { LimitService } from './limits.js';
import { PendingSecretService } from './pending-secrets.js';
import { ProjectService } from './projects.js';
import { ReviewService } from './reviews.js';
import { UsageReportService } from './reports.js';
import { SettingsService } from './settings.js';
import type { TotpService } from './totp.js';
import { createTotpService } from './twofactor-repo.js';

export interface Services {
  deps: ServiceDeps;
  projects: ProjectService;
  keys: KeyService;
  keyCheck: KeyCheckService;
  pendingSecrets: PendingSecretService;
  limits: LimitService;
  totp: TotpService;
  approvals: ApprovalService;
  reviews: ReviewService;
  reports: UsageReportService;
  settings: SettingsService;
}

export function createServices(deps: ServiceDeps): Services {
  const totp = createTotpService(deps);
  const projects = new ProjectService(deps, totp);
  const keys = new KeyService(deps, projects, totp);
  const limits = new LimitService(deps, projects, totp);
  return {
    deps,
    projects,
    keys,
    totp,
    approvals: new ApprovalService(deps, projects, keys, totp),
    reviews: new ReviewService(deps, projects, keys, totp),
    pendingSecrets: new PendingSecretService(deps),
    limits,
    keyCheck: new KeyCheckService(deps, projects, keys, limits),
    reports: new UsageReportService(deps, projects),
    settings: new SettingsService(deps, projects),
  };
}

export * from './context.js';
