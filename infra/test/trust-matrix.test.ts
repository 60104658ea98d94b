import type { Template } from 'aws-cdk-lib/assertions';
import { evaluate, gitHubWebIdentityRequest, type Decision } from '../../test/helpers/trust-policy.js';
import { subjectPrefix, type GitHubIdentity } from '../lib/config.js';
import { oidcProviderArn, resourceNames } from '../lib/names.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { environment, FIRST, partitionOf, synthesize, unconfiguredAccount } from './helpers/app.js';
import { resourcesOfType } from './helpers/template.js';

/** A GitHub OIDC token's claims, by the situation that produced it. */
interface Cell {
  readonly situation: string;
  readonly sub: string;
  readonly aud?: string;
  /** Which roles must let this token in; every other role must refuse it. */
  readonly allowed: ReadonlyArray<Role>;
}

type Role = 'pull-request' | 'deploy' | 'operator';
const ROLES: readonly Role[] = ['pull-request', 'deploy', 'operator'];
const NAMES = resourceNames(FIRST);
const ROLE_BY_NAME: Readonly<Record<string, Role>> = {
  [NAMES.pullRequestRole]: 'pull-request',
  [NAMES.deployRole]: 'deploy',
  [NAMES.operatorRole]: 'operator',
};

/** The first candidate that differs from every value given. */
const other = (taken: readonly (string | undefined)[], candidates: readonly string[]): string =>
  candidates.find((candidate) => !taken.includes(candidate))!;

const MAIN = FIRST.github.mainBranch;
/** Another configured environment if there is one, else a made-up name no environment has. */
const ANOTHER_ENVIRONMENT =
  ENVIRONMENTS.find((env) => env.name !== FIRST.name)?.name ??
  other(
    ENVIRONMENTS.map((env) => env.name),
    ['staging', 'production', 'another'],
  );
/** Owner and repository ids: the configured ones, else made-up ones. */
const IDS = { ownerId: FIRST.github.ownerId ?? '9919', repoId: FIRST.github.repoId ?? '123456' };
const LEGACY = { ...FIRST.github, ownerId: undefined, repoId: undefined };
const IMMUTABLE = { ...FIRST.github, ...IDS };

/** The subject prefix of another repository or owner, in the same format as `github`. */
function variant(github: Pick<GitHubIdentity, 'owner' | 'repo' | 'ownerId' | 'repoId'>, change: 'repo' | 'owner') {
  const immutable = github.ownerId !== undefined && github.repoId !== undefined;
  return subjectPrefix(
    change === 'repo'
      ? {
          ...github,
          repo: `${github.repo}-other`,
          ...(immutable ? { repoId: other([github.repoId], ['777001', '777002']) } : {}),
        }
      : {
          ...github,
          owner: other([github.owner], ['someone', 'someone-else']),
          ...(immutable ? { ownerId: other([github.ownerId], ['888001', '888002']) } : {}),
        },
  );
}

function matrix(github: Pick<GitHubIdentity, 'owner' | 'repo' | 'ownerId' | 'repoId'>): Cell[] {
  const repo = subjectPrefix(github);
  const otherBranch = other([MAIN], ['feature', 'feature-2']);
  return [
    { situation: `push to ${MAIN}`, sub: `${repo}:ref:refs/heads/${MAIN}`, allowed: ['deploy', 'operator'] },
    {
      situation: `workflow_dispatch on ${MAIN} (same subject as a push)`,
      sub: `${repo}:ref:refs/heads/${MAIN}`,
      allowed: ['deploy', 'operator'],
    },
    {
      situation: `job in the ${FIRST.name} environment`,
      sub: `${repo}:environment:${FIRST.name}`,
      allowed: ['deploy', 'operator'],
    },
    { situation: 'pull request', sub: `${repo}:pull_request`, allowed: ['pull-request'] },
    { situation: 'push to another branch', sub: `${repo}:ref:refs/heads/${otherBranch}`, allowed: [] },
    {
      situation: `branch named like ${MAIN} with a suffix`,
      sub: `${repo}:ref:refs/heads/${MAIN}-evil`,
      allowed: [],
    },
    { situation: 'tag push', sub: `${repo}:ref:refs/tags/v1.0.0`, allowed: [] },
    {
      situation: `another environment (${ANOTHER_ENVIRONMENT})`,
      sub: `${repo}:environment:${ANOTHER_ENVIRONMENT}`,
      allowed: [],
    },
    {
      situation: 'another repository of the owner',
      sub: `${variant(github, 'repo')}:ref:refs/heads/${MAIN}`,
      allowed: [],
    },
    {
      situation: 'another repository of the owner, in its environment of the same name',
      sub: `${variant(github, 'repo')}:environment:${FIRST.name}`,
      allowed: [],
    },
    {
      situation: 'a fork (pull request from another owner)',
      sub: `${variant(github, 'owner')}:pull_request`,
      allowed: [],
    },
    {
      situation: `a fork pushing to its own ${MAIN}`,
      sub: `${variant(github, 'owner')}:ref:refs/heads/${MAIN}`,
      allowed: [],
    },
    {
      situation: `wrong audience on a ${MAIN} push`,
      sub: `${repo}:ref:refs/heads/${MAIN}`,
      aud: `https://github.com/${github.owner}`,
      allowed: [],
    },
  ];
}

/** The account's provider: what AWS names as the federated principal of a web-identity call. */
const PROVIDER = oidcProviderArn(FIRST.account, partitionOf(FIRST.region));

/** The decision of every role's synthesized trust policy for one cell. */
function decisions(template: Template, cell: Cell, provider: string = PROVIDER): Record<string, Decision> {
  const result: Record<string, Decision> = {};
  for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
    const roleName = role.Properties.RoleName as string;
    const name = ROLE_BY_NAME[roleName];
    if (!name) throw new Error(`unexpected role ${roleName} in the foundation`);
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
    template = synthesize(environment(FIRST.name, { github: { ownerId: undefined, repoId: undefined } })).foundation;
  });

  it('is the format the prefix has without ids', () => {
    expect(subjectPrefix(LEGACY)).toBe(`repo:${FIRST.github.owner}/${FIRST.github.repo}`);
  });

  it.each(matrix(LEGACY))('$situation → $allowed', (cell) => {
    expect(decisions(template, cell)).toEqual(expected(cell));
  });

  it('refuses tokens in the immutable format when the repository is configured for the legacy one', () => {
    const cell: Cell = {
      situation: 'immutable',
      sub: `${subjectPrefix(IMMUTABLE)}:ref:refs/heads/${MAIN}`,
      allowed: [],
    };
    expect(decisions(template, cell)).toEqual(expected(cell));
  });

  it("refuses the right token through another account's provider", () => {
    const cell = matrix(LEGACY)[0]!;
    const elsewhere = oidcProviderArn(unconfiguredAccount(), partitionOf(FIRST.region));
    expect(decisions(template, cell, elsewhere)).toEqual(expected({ ...cell, allowed: [] }));
  });
});

describe('trust matrix, immutable subject format (owner and repository ids configured)', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(environment(FIRST.name, { github: IDS })).foundation;
  });

  it('is the format the prefix has with ids', () => {
    expect(subjectPrefix(IMMUTABLE)).toBe(
      `repo:${FIRST.github.owner}-${IDS.ownerId}/${FIRST.github.repo}-${IDS.repoId}`,
    );
  });

  it.each(matrix(IMMUTABLE))('$situation → $allowed', (cell) => {
    expect(decisions(template, cell)).toEqual(expected(cell));
  });

  it.each([
    ['the legacy form of the same repository', `${subjectPrefix(LEGACY)}:ref:refs/heads/${MAIN}`],
    [
      'a recreated repository with the same name (new id)',
      `${subjectPrefix({ ...IMMUTABLE, repoId: other([IDS.repoId], ['999999', '999998']) })}:ref:refs/heads/${MAIN}`,
    ],
    [
      'a recreated owner with the same name (new id)',
      `${subjectPrefix({ ...IMMUTABLE, ownerId: other([IDS.ownerId], ['999999', '999998']) })}:ref:refs/heads/${MAIN}`,
    ],
  ])('refuses %s', (situation, sub) => {
    const cell: Cell = { situation, sub, allowed: [] };
    expect(decisions(template, cell)).toEqual(expected(cell));
  });
});
