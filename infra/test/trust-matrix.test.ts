import type { Template } from 'aws-cdk-lib/assertions';
import { evaluate, gitHubWebIdentityRequest, type Decision } from '../../test/helpers/trust-policy.js';
import { environment, synthesize } from './helpers/app.js';
import { resourcesOfType } from './helpers/template.js';

/** A GitHub OIDC token's claims, by the situation that produced it. */
interface Cell {
  readonly situation: string;
  readonly sub: string;
  readonly aud?: string;
  /** Which roles must let this token in; every other role must refuse it. */
  readonly allowed: ReadonlyArray<'pull-request' | 'deploy' | 'operator'>;
}

const ROLES = ['pull-request', 'deploy', 'operator'] as const;

function matrix(repo: string): Cell[] {
  return [
    { situation: 'push to main', sub: `${repo}:ref:refs/heads/main`, allowed: ['deploy', 'operator'] },
    {
      situation: 'workflow_dispatch on main (same subject as a push)',
      sub: `${repo}:ref:refs/heads/main`,
      allowed: ['deploy', 'operator'],
    },
    { situation: 'job in the dev environment', sub: `${repo}:environment:dev`, allowed: ['deploy', 'operator'] },
    { situation: 'pull request', sub: `${repo}:pull_request`, allowed: ['pull-request'] },
    { situation: 'push to another branch', sub: `${repo}:ref:refs/heads/feature`, allowed: [] },
    { situation: 'branch named like main with a suffix', sub: `${repo}:ref:refs/heads/main-evil`, allowed: [] },
    { situation: 'tag push', sub: `${repo}:ref:refs/tags/v1.0.0`, allowed: [] },
    { situation: 'another environment', sub: `${repo}:environment:canary`, allowed: [] },
    {
      situation: 'another repository of the owner',
      sub: 'repo:example-org/other-repo:ref:refs/heads/main',
      allowed: [],
    },
    {
      situation: 'a fork (pull request from another owner)',
      sub: 'repo:someone/private-aws-gitops:pull_request',
      allowed: [],
    },
    {
      situation: 'a fork pushing to its own main',
      sub: 'repo:someone/private-aws-gitops:ref:refs/heads/main',
      allowed: [],
    },
    {
      situation: 'wrong audience on a main push',
      sub: `${repo}:ref:refs/heads/main`,
      aud: 'https://github.com/example-org',
      allowed: [],
    },
  ];
}

/** The decision of every role's synthesized trust policy for one cell. */
function decisions(template: Template, cell: Cell): Record<string, Decision> {
  const [providerId] = Object.keys(template.findResources('AWS::IAM::OIDCProvider'));
  const provider = { Ref: providerId };
  const result: Record<string, Decision> = {};
  for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
    const name = (role.Properties.RoleName as string).replace(/^dev-github-/, '');
    result[name] = evaluate(
      role.Properties.AssumeRolePolicyDocument,
      gitHubWebIdentityRequest(provider, { sub: cell.sub, aud: cell.aud ?? 'sts.amazonaws.com' }),
    );
  }
  return result;
}

const expected = (cell: Cell): Record<string, Decision> =>
  Object.fromEntries(ROLES.map((role) => [role, cell.allowed.includes(role) ? 'Allow' : 'ImplicitDeny']));

describe('trust matrix, legacy subject format', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(environment('dev')).oidc;
  });

  it.each(matrix('repo:example-org/private-aws-gitops'))('$situation → $allowed', (cell) => {
    expect(decisions(template, cell)).toEqual(expected(cell));
  });

  it('refuses tokens in the immutable format when the repository is configured for the legacy one', () => {
    const cell: Cell = {
      situation: 'immutable',
      sub: 'repo:example-org-1/private-aws-gitops-2:ref:refs/heads/main',
      allowed: [],
    };
    expect(decisions(template, cell)).toEqual(expected(cell));
  });
});

describe('trust matrix, immutable subject format (owner and repository ids configured)', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(environment('dev', { github: { ownerId: '9919', repoId: '123456' } })).oidc;
  });

  it.each(matrix('repo:example-org-9919/private-aws-gitops-123456'))('$situation → $allowed', (cell) => {
    expect(decisions(template, cell)).toEqual(expected(cell));
  });

  it.each([
    ['the legacy form of the same repository', 'repo:example-org/private-aws-gitops:ref:refs/heads/main'],
    [
      'a recreated repository with the same name (new id)',
      'repo:example-org-9919/private-aws-gitops-999999:ref:refs/heads/main',
    ],
  ])('refuses %s', (_name, sub) => {
    const cell: Cell = { situation: _name, sub, allowed: [] };
    expect(decisions(template, cell)).toEqual(expected(cell));
  });
});
