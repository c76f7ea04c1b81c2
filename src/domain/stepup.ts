/**
 * The one list of actions that ask for a fresh TOTP code (step-up) from enrolled users — everyone
 * when KEYWARD_REQUIRE_2FA=true. Services enforce it (TotpService.guard), so no adapter path can skip
 * it; Slack turns a StepUpRequired refusal into a modal with a code field. The CLI has no Slack user
 * and acts with server access: it is exempt.
 */
import type { Environment } from './keys.js';
import { DomainError } from './errors.js';
import type { Role } from './roles.js';

/** What decides, for some actions, whether a code is needed (a prod key, an Admin role…). */
export interface StepUpContext {
  role?: Role;
  environment?: Environment;
  unreviewed?: 'keep' | 'revoke';
}

const always = () => true;
const prod = (c: StepUpContext) => c.environment === 'prod';

/** Every step-up action: when it applies, and how people read it (help, README, the "2FA is on" note). */
const RULES = {
  'member.add': { applies: (c: StepUpContext) => c.role === 'admin', label: 'adding a project Admin' },
  'member.role': { applies: always, label: 'changing a role' },
  'member.remove': { applies: always, label: 'removing a member' },
  'project.policy': { applies: always, label: 'changing an approval policy' },
  'project.archive': { applies: always, label: 'archiving a project' },
  'key.create': { applies: prod, label: 'creating a prod key without approval' },
  'key.revoke': { applies: prod, label: 'revoking a prod key' },
  'key.rotate': { applies: prod, label: 'rotating a prod key' },
  'limits.set': { applies: always, label: 'changing limits' },
  'approval.approve': { applies: always, label: 'approving a key request' },
  'review.revoke': { applies: always, label: 'revoking access in an access review' },
  'review.close': { applies: (c: StepUpContext) => c.unreviewed === 'revoke', label: 'closing an access review with `--unreviewed revoke`' },
  'totp.reset': { applies: always, label: "resetting someone else's two-factor" },
} satisfies Record<string, { applies: (c: StepUpContext) => boolean; label: string }>;

export type StepUpAction = keyof typeof RULES;
export const STEP_UP_ACTIONS = Object.keys(RULES) as StepUpAction[];

/** Whether `action` in `context` asks for a code (from users who have or must have 2FA). */
export const needsStepUp = (action: StepUpAction, context: StepUpContext = {}): boolean => RULES[action].applies(context);

/** "adding a project Admin, changing a role, …" */
export const stepUpSummary = (): string => STEP_UP_ACTIONS.map((a) => RULES[a].label).join(', ');

export const isStepUpAction = (value: string): value is StepUpAction => Object.hasOwn(RULES, value);

/** A sensitive action was asked for without a code from a user who has 2FA: nothing was done. */
export class StepUpRequired extends DomainError {
  constructor(readonly action: StepUpAction) {
    super('forbidden', 'This action needs a fresh code from your authenticator app.');
  }
}
