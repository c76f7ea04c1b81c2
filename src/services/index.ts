import type { ServiceDeps } from './context.js';
import { KeyService } from './keys.js';
import { LimitService } from './limits.js';
import { PendingSecretService } from './pending-secrets.js';
import { ProjectService } from './projects.js';

export interface Services {
  deps: ServiceDeps;
  projects: ProjectService;
  keys: KeyService;
  pendingSecrets: PendingSecretService;
  limits: LimitService;
}

export function createServices(deps: ServiceDeps): Services {
  const projects = new ProjectService(deps);
  return {
    deps,
    projects,
    keys: new KeyService(deps, projects),
    pendingSecrets: new PendingSecretService(deps),
    limits: new LimitService(deps, projects),
  };
}

export * from './context.js';
