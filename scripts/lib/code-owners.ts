/**
 * `.github/CODEOWNERS`, written from the configuration's `github.codeOwners` by `npm run configure`
 * (and checked against it by a test): the paths whose change reaches the account, which branch
 * protection's "Require review from Code Owners" then holds to a code owner's approval.
 */
import type { ProjectConfig } from '../../infra/lib/config.js';

export const CODEOWNERS_FILE = '.github/CODEOWNERS';

/** What deploys, what decides how it deploys, and what says where: the review gate's own code too. */
export const OWNED_PATHS = [
  '/.github/',
  '/actions/',
  '/infra/',
  '/scripts/',
  '/gitops.config.json',
  '/package.json',
  '/package-lock.json',
  '/cdk.json',
] as const;

export function codeOwnersFile(project: Pick<ProjectConfig, 'github'>): string {
  const owners = project.github.codeOwners.join(' ');
  const width = Math.max(...OWNED_PATHS.map((path) => path.length));
  return [
    '# Written by `npm run configure` from github.codeOwners in gitops.config.json; edit it there.',
    '# With "Require review from Code Owners" on main, a change to what deploys, or to how it is',
    '# reviewed and deployed, needs a code owner\'s approval (docs/workflows.md, "The review gate").',
    ...OWNED_PATHS.map((path) => `${path.padEnd(width)} ${owners}`),
    '',
  ].join('\n');
}
