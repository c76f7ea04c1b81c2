/**
 * Scheduled work of approvals and access reviews (issue 5), as `(now, deps)` job functions over the
 * Slack handlers' job helpers: expire lapsed key requests (every minute), start the quarterly review
 * (daily check; the campaign's unique (org, slot) makes it exactly once) and send review reminders.
 */
import { AdminResolver } from '../slack/admins.js';
import type { SlackDeps } from '../slack/context.js';
import { expireApprovalRequests } from '../slack/handlers/approvals.js';
import { sendReviewReminders, startQuarterlyReviews } from '../slack/handlers/reviews.js';
import type { JobDeps, JobFn } from './context.js';

function slackDeps(now: Date, deps: JobDeps): SlackDeps {
  const { db, logger } = deps.services.deps;
  return { services: deps.services, logger, now: () => now, admins: new AdminResolver(db, deps.admins, logger, () => now) };
}

export const runApprovalExpiry: JobFn = async (now, deps) => {
  if (!deps.slackClient || deps.dryRun) return { lines: [] };
  const n = await expireApprovalRequests(slackDeps(now, deps), deps.slackClient);
  return { lines: n ? [`expired ${n} key request${n === 1 ? '' : 's'}`] : [] };
};

export const runQuarterlyReview: JobFn = async (now, deps) => {
  if (!deps.slackClient || deps.dryRun) return { lines: [] };
  const n = await startQuarterlyReviews(slackDeps(now, deps), deps.slackClient);
  return { lines: n ? [`started ${n} quarterly access review${n === 1 ? '' : 's'}`] : [] };
};

export const runReviewReminders: JobFn = async (now, deps) => {
  if (!deps.slackClient || deps.dryRun) return { lines: [] };
  const n = await sendReviewReminders(slackDeps(now, deps), deps.slackClient);
  return { lines: n ? [`sent reminders for ${n} access review${n === 1 ? '' : 's'}`] : [] };
};
