import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { evaluate, gitHubWebIdentityRequest, type Decision } from '../../test/helpers/trust-policy.js';
import { subjectPrefix, type GitHubIdentity } from '../lib/config.js';
import { GITHUB_OIDC_HOST, oidcProviderArn, resourceNames, ROLE_WORKFLOWS } from '../lib/names.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { environment, FIRST, partitionOf, synthesize, unconfiguredAccount } from './helpers/app.js';
import { resourcesOfType } from './helpers/template.js';

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
const [DEPLOY_WORKFLOW] = ROLE_WORKFLOWS.deployRole;
const SMOKE_TEST_WORKFLOW = ROLE_WORKFLOWS.operatorRole.find((file) => file !== DEPLOY_WORKFLOW)!;

type Repository = Pick<GitHubIdentity, 'owner' | 'repo' | 'ownerId' | 'repoId'>;

/** A job of a GitHub Actions workflow, as far as its token's claims go. */
interface Job {
  /** The repository the job runs in; its ids are in the token whether or not the trust uses them. */
  readonly repository: Repository;
  readonly ids: { readonly ownerId: string; readonly repoId: string };
  readonly event: 'push' | 'workflow_dispatch' | 'pull_request';
  readonly ref: string;
  readonly workflow: string;
  readonly environment?: string;
  readonly aud?: string;
}

/**
 * The claims GitHub signs for a job (GitHub Docs, "OpenID Connect reference"): `sub` in the
 * repository's format, by GitHub's rule (an environment job gets the environment subject, else a
 * pull request's is `pull_request`, else the ref); `job_workflow_ref` the workflow file at the ref;
 * the numeric ids always.
 */
function claimsOf(job: Job): Record<string, string> {
  const prefix = subjectPrefix(job.repository);
  const sub = job.environment
    ? `${prefix}:environment:${job.environment}`
    : job.event === 'pull_request'
      ? `${prefix}:pull_request`
      : `${prefix}:ref:${job.ref}`;
  return {
    sub,
    aud: job.aud ?? 'sts.amazonaws.com',
    job_workflow_ref: `${job.repository.owner}/${job.repository.repo}/.github/workflows/${job.workflow}@${job.ref}`,
    repository_id: job.ids.repoId,
    repository_owner_id: job.ids.ownerId,
    ref: job.ref,
    ...(job.environment ? { environment: job.environment } : {}),
  };
}

/** Which roles must let a job in; every other role must refuse it. */
interface Cell {
  readonly situation: string;
  readonly job: Job;
  readonly allowed: ReadonlyArray<Role>;
}

/** Another repository or owner, in the same format as `github`, with other ids. */
function variant(github: Repository, change: 'repo' | 'owner'): { repository: Repository; ids: Job['ids'] } {
  const ownerId = change === 'owner' ? other([IDS.ownerId], ['888001', '888002']) : IDS.ownerId;
  const repoId = other([IDS.repoId], ['777001', '777002']);
  const immutable = github.ownerId !== undefined && github.repoId !== undefined;
  const repository =
    change === 'repo'
      ? { ...github, repo: `${github.repo}-other`, ...(immutable ? { repoId } : {}) }
      : { ...github, owner: other([github.owner], ['someone', 'someone-else']), ...(immutable ? { ownerId } : {}) };
  return { repository, ids: { ownerId, repoId } };
}

function matrix(github: Repository): Cell[] {
  const here = { repository: github, ids: IDS };
  const main = `refs/heads/${MAIN}`;
  const otherBranch = `refs/heads/${other([MAIN], ['feature', 'feature-2'])}`;
  const job = (fields: Omit<Job, 'repository' | 'ids'> & Partial<Pick<Job, 'repository' | 'ids'>>): Job => ({
    ...here,
    ...fields,
  });
  const deployJob = job({ event: 'push', ref: main, workflow: DEPLOY_WORKFLOW, environment: FIRST.name });
  return [
    {
      situation: `${DEPLOY_WORKFLOW} on ${MAIN}, its job in the ${FIRST.name} environment`,
      job: deployJob,
      allowed: ['deploy', 'operator'],
    },
    {
      situation: `${SMOKE_TEST_WORKFLOW} dispatched on ${MAIN}, in the ${FIRST.name} environment`,
      job: job({ event: 'workflow_dispatch', ref: main, workflow: SMOKE_TEST_WORKFLOW, environment: FIRST.name }),
      allowed: ['operator'],
    },
    {
      situation: `push to ${MAIN}, a job naming no environment (it would skip the environment's reviewers)`,
      job: job({ event: 'push', ref: main, workflow: DEPLOY_WORKFLOW }),
      allowed: [],
    },
    {
      situation: `workflow_dispatch on ${MAIN}, naming no environment`,
      job: job({ event: 'workflow_dispatch', ref: main, workflow: SMOKE_TEST_WORKFLOW }),
      allowed: [],
    },
    {
      situation: `another workflow of the repository on ${MAIN}, in the ${FIRST.name} environment`,
      job: job({ event: 'push', ref: main, workflow: 'ci.yml', environment: FIRST.name }),
      allowed: [],
    },
    {
      situation: `a new workflow file on ${MAIN} named like the deploy workflow, in the ${FIRST.name} environment`,
      job: job({ event: 'push', ref: main, workflow: `${DEPLOY_WORKFLOW}.bak`, environment: FIRST.name }),
      allowed: [],
    },
    {
      situation: `${DEPLOY_WORKFLOW} on another branch, in the ${FIRST.name} environment (no branch rule set)`,
      job: job({ event: 'push', ref: otherBranch, workflow: DEPLOY_WORKFLOW, environment: FIRST.name }),
      allowed: [],
    },
    {
      situation: `${SMOKE_TEST_WORKFLOW} dispatched on another branch, in the ${FIRST.name} environment`,
      job: job({
        event: 'workflow_dispatch',
        ref: otherBranch,
        workflow: SMOKE_TEST_WORKFLOW,
        environment: FIRST.name,
      }),
      allowed: [],
    },
    {
      situation: `${DEPLOY_WORKFLOW} on a branch named like ${MAIN} with a suffix, in the environment`,
      job: job({ event: 'push', ref: `${main}-evil`, workflow: DEPLOY_WORKFLOW, environment: FIRST.name }),
      allowed: [],
    },
    {
      situation: `${DEPLOY_WORKFLOW} on a tag, in the environment`,
      job: job({ event: 'push', ref: 'refs/tags/v1.0.0', workflow: DEPLOY_WORKFLOW, environment: FIRST.name }),
      allowed: [],
    },
    {
      situation: 'pull request (pr.yml)',
      job: job({ event: 'pull_request', ref: 'refs/pull/7/merge', workflow: 'pr.yml' }),
      allowed: ['pull-request'],
    },
    {
      situation: 'push to another branch',
      job: job({ event: 'push', ref: otherBranch, workflow: DEPLOY_WORKFLOW }),
      allowed: [],
    },
    {
      situation: `another environment (${ANOTHER_ENVIRONMENT}), ${DEPLOY_WORKFLOW} on ${MAIN}`,
      job: job({ event: 'push', ref: main, workflow: DEPLOY_WORKFLOW, environment: ANOTHER_ENVIRONMENT }),
      allowed: [],
    },
    {
      situation: 'another repository of the owner, in its environment of the same name',
      job: job({
        ...variant(github, 'repo'),
        event: 'push',
        ref: main,
        workflow: DEPLOY_WORKFLOW,
        environment: FIRST.name,
      }),
      allowed: [],
    },
    {
      situation: 'a fork (pull request from another owner)',
      job: job({ ...variant(github, 'owner'), event: 'pull_request', ref: 'refs/pull/7/merge', workflow: 'pr.yml' }),
      allowed: [],
    },
    {
      situation: `a fork's ${DEPLOY_WORKFLOW} on its own ${MAIN}, in its environment of the same name`,
      job: job({
        ...variant(github, 'owner'),
        event: 'push',
        ref: main,
        workflow: DEPLOY_WORKFLOW,
        environment: FIRST.name,
      }),
      allowed: [],
    },
    {
      situation: `wrong audience on the ${DEPLOY_WORKFLOW} job`,
      job: { ...deployJob, aud: `https://github.com/${github.owner}` },
      allowed: [],
    },
  ];
}

/** The account's provider: what AWS names as the federated principal of a web-identity call. */
const PROVIDER = oidcProviderArn(FIRST.account, partitionOf(FIRST.region));

/** The decision of every role's synthesized trust policy for a token's claims. */
function decisions(template: Template, claims: Record<string, string>, provider = PROVIDER): Record<string, Decision> {
  const base = gitHubWebIdentityRequest(provider, { sub: claims.sub!, aud: claims.aud! });
  const request = {
    ...base,
    context: Object.fromEntries(
      Object.entries(claims).map(([claim, value]) => [`${GITHUB_OIDC_HOST}:${claim}`, value]),
    ),
  };
  const result: Record<string, Decision> = {};
  for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
    const roleName = role.Properties.RoleName as string;
    const name = ROLE_BY_NAME[roleName];
    if (!name) throw new Error(`unexpected role ${roleName} in the foundation`);
    result[name] = evaluate(role.Properties.AssumeRolePolicyDocument, request);
  }
  return result;
}

const expected = (allowed: readonly Role[]): Record<string, Decision> =>
  Object.fromEntries(ROLES.map((role) => [role, allowed.includes(role) ? 'Allow' : 'ImplicitDeny']));

describe('trust matrix, legacy subject format', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize(environment(FIRST.name, { github: { ownerId: undefined, repoId: undefined } })).foundation;
  });

  it('is the format the prefix has without ids', () => {
    expect(subjectPrefix(LEGACY)).toBe(`repo:${FIRST.github.owner}/${FIRST.github.repo}`);
  });

  it.each(matrix(LEGACY))('$situation → $allowed', (cell) => {
    expect(decisions(template, claimsOf(cell.job))).toEqual(expected(cell.allowed));
  });

  it('refuses tokens in the immutable format when the repository is configured for the legacy one', () => {
    const job: Job = {
      repository: IMMUTABLE,
      ids: IDS,
      event: 'push',
      ref: `refs/heads/${MAIN}`,
      workflow: DEPLOY_WORKFLOW,
      environment: FIRST.name,
    };
    expect(decisions(template, claimsOf(job))).toEqual(expected([]));
  });

  it("refuses the right token through another account's provider", () => {
    const cell = matrix(LEGACY)[0]!;
    const elsewhere = oidcProviderArn(unconfiguredAccount(), partitionOf(FIRST.region));
    expect(decisions(template, claimsOf(cell.job), elsewhere)).toEqual(expected([]));
  });

  it('refuses a token that lacks the job_workflow_ref claim', () => {
    const { job_workflow_ref: _dropped, ...claims } = claimsOf(matrix(LEGACY)[0]!.job);
    expect(decisions(template, claims)).toEqual(expected([]));
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
    expect(decisions(template, claimsOf(cell.job))).toEqual(expected(cell.allowed));
  });

  const deploy = (): Job => matrix(IMMUTABLE)[0]!.job;
  const newRepoId = other([IDS.repoId], ['999999', '999998']);
  const newOwnerId = other([IDS.ownerId], ['999999', '999998']);
  it.each<[string, () => Record<string, string>]>([
    ['the legacy form of the same repository', () => claimsOf({ ...deploy(), repository: LEGACY })],
    [
      'a recreated (renamed-into) repository with the same name, another id',
      () =>
        claimsOf({ ...deploy(), repository: { ...IMMUTABLE, repoId: newRepoId }, ids: { ...IDS, repoId: newRepoId } }),
    ],
    [
      'a recreated owner with the same name, another id',
      () =>
        claimsOf({
          ...deploy(),
          repository: { ...IMMUTABLE, ownerId: newOwnerId },
          ids: { ...IDS, ownerId: newOwnerId },
        }),
    ],
    // The id conditions on their own, whatever the subject says.
    ['the right subject with another repository_id', () => ({ ...claimsOf(deploy()), repository_id: newRepoId })],
    [
      'the right subject with another repository_owner_id',
      () => ({ ...claimsOf(deploy()), repository_owner_id: newOwnerId }),
    ],
    [
      'the right subject without the id claims',
      () => {
        const { repository_id: _r, repository_owner_id: _o, ...claims } = claimsOf(deploy());
        return claims;
      },
    ],
  ])('refuses %s', (_situation, claims) => {
    expect(decisions(template, claims())).toEqual(expected([]));
  });
});

describe('the roles that act on the environment trust the workflows that assume them', () => {
  it.each([
    ['deployRole', /role-to-assume: \$\{\{[^}]*\.deployRole \}\}/],
    ['operatorRole', /role-to-assume: \$\{\{[^}]*\.operatorRole \}\}/],
  ] as const)(
    'each workflow in ROLE_WORKFLOWS.%s assumes that role in a job that names an environment',
    (role, uses) => {
      for (const file of ROLE_WORKFLOWS[role]) {
        const text = readFileSync(new URL(`../../.github/workflows/${file}`, import.meta.url), 'utf8');
        expect([file, uses.test(text)]).toEqual([file, true]);
        expect([file, /^\s+environment: \$\{\{/m.test(text)]).toEqual([file, true]);
      }
    },
  );
});
