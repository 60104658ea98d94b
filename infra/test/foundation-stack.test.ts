import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addEnvironments } from '../lib/build-app.js';
import { resolveEnvironments, subjectPrefix, type EnvironmentConfig } from '../lib/config.js';
import { GitHubOidcProviderStack } from '../lib/github-oidc-provider-stack.js';
import { cachedRepositoryName } from '../lib/image-cache.js';
import {
  bootstrapNames,
  GITHUB_OIDC_HOST,
  jobWorkflowRef,
  OIDC_PROVIDER_STACK,
  oidcProviderArn,
  resourceNames,
  ROLE_WORKFLOWS,
  STS_AUDIENCE,
} from '../lib/names.js';
import {
  cdkJsonContext,
  companionEnvironment,
  environment,
  FIRST,
  partitionOf,
  synthesize,
  unconfiguredAccount,
} from './helpers/app.js';
import { resourcesOfType, type TemplateResource } from './helpers/template.js';

interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const actions = (statements: readonly Statement[]): string[] => statements.flatMap((s) => list(s.Action));

/** Made-up owner and repository ids, for the immutable subject format when none are configured. */
const IDS = { ownerId: FIRST.github.ownerId ?? '9919', repoId: FIRST.github.repoId ?? '123456' };

const PARTITION = partitionOf(FIRST.region);
const NAMES = resourceNames(FIRST);
const BOOTSTRAP = bootstrapNames({ ...FIRST, qualifier: FIRST.bootstrapQualifier, partition: PARTITION });
const iamArn = (resource: string): string => `arn:${PARTITION}:iam::${FIRST.account}:${resource}`;
const WORKLOAD_STACK_ARNS = [NAMES.networkStack, NAMES.serviceStack].map(
  (stack) => `arn:${PARTITION}:cloudformation:${FIRST.region}:${FIRST.account}:stack/${stack}/*`,
);
const regional = (type: string): string => `arn:${PARTITION}:${type}`;

/** Queries over one synthesized foundation template. */
function inspect(template: Template) {
  const role = (name: string): TemplateResource => {
    const found = resourcesOfType(template, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === name);
    if (!found) throw new Error(`no role ${name}`);
    return found;
  };
  const managedPolicy = (name: string): Statement[] => {
    const found = resourcesOfType(template, 'AWS::IAM::ManagedPolicy').find(
      (p) => p.Properties.ManagedPolicyName === name,
    );
    if (!found) throw new Error(`no managed policy ${name}`);
    return found.Properties.PolicyDocument.Statement as Statement[];
  };
  const policyOf = (roleName: string): Statement[] => {
    const arns = role(roleName).Properties.ManagedPolicyArns as Array<{ Ref: string }>;
    const policies = template.findResources('AWS::IAM::ManagedPolicy');
    return arns.flatMap((arn) => policies[arn.Ref]!.Properties.PolicyDocument.Statement as Statement[]);
  };
  const subjects = (roleName: string): string[] =>
    list(
      role(roleName).Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals[`${GITHUB_OIDC_HOST}:sub`],
    );
  return { role, managedPolicy, policyOf, subjects };
}

describe(`foundation stack of ${FIRST.name}`, () => {
  let template: Template;
  let q: ReturnType<typeof inspect>;
  beforeAll(() => {
    template = synthesize(environment()).foundation;
    q = inspect(template);
  });

  it("holds no OIDC provider and no Lambda-backed resource (the provider is the account's own stack)", () => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.some((type) => type.startsWith('Custom::') || type === 'AWS::Lambda::Function')).toBe(false);
  });

  const one = (values: readonly string[]): string | string[] => (values.length === 1 ? values[0]! : [...values]);
  /** The claims of the roles that act on the environment: its workflows on main, the repository's ids. */
  const environmentClaims = (workflows: readonly string[]): Record<string, string | string[]> => ({
    [`${GITHUB_OIDC_HOST}:job_workflow_ref`]: one(
      workflows.map((file) => jobWorkflowRef(FIRST.github, file, FIRST.github.mainBranch)),
    ),
    ...(FIRST.github.repoId !== undefined && FIRST.github.ownerId !== undefined
      ? {
          [`${GITHUB_OIDC_HOST}:repository_id`]: FIRST.github.repoId,
          [`${GITHUB_OIDC_HOST}:repository_owner_id`]: FIRST.github.ownerId,
        }
      : {}),
  });
  it.each([
    ['pull-request', NAMES.pullRequestRole, (prefix: string) => [`${prefix}:pull_request`], {}],
    [
      'deploy',
      NAMES.deployRole,
      (prefix: string) => [`${prefix}:environment:${FIRST.name}`],
      environmentClaims(ROLE_WORKFLOWS.deployRole),
    ],
    [
      'operator',
      NAMES.operatorRole,
      (prefix: string) => [`${prefix}:environment:${FIRST.name}`],
      environmentClaims(ROLE_WORKFLOWS.operatorRole),
    ],
  ])(
    "the %s role trusts only the account's provider, aud=sts.amazonaws.com, its exact subjects and workflows",
    (_kind, name, subjects, claims) => {
      expect(q.role(name).Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: {
            Federated: `arn:${PARTITION}:iam::${FIRST.account}:oidc-provider/token.actions.githubusercontent.com`,
          },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': STS_AUDIENCE,
              'token.actions.githubusercontent.com:sub': one(subjects(subjectPrefix(FIRST.github))),
              ...claims,
            },
          },
        },
      ]);
      expect(q.role(name).Properties.MaxSessionDuration).toBe(3600);
    },
  );

  it('names the workflows of the deploy role (deploy, sleep) and of the operator role (deploy, smoke test, sleep, drift)', () => {
    expect(ROLE_WORKFLOWS).toEqual({
      deployRole: ['deploy.yml', 'sleep.yml'],
      operatorRole: ['deploy.yml', 'smoke-test.yml', 'sleep.yml', 'drift.yml'],
    });
    expect(jobWorkflowRef({ owner: 'octo-org', repo: 'infra' }, 'deploy.yml', 'main')).toBe(
      'octo-org/infra/.github/workflows/deploy.yml@refs/heads/main',
    );
  });

  it('has exactly the three GitHub roles', () => {
    expect(
      resourcesOfType(template, 'AWS::IAM::Role')
        .map((r) => r.Properties.RoleName)
        .sort(),
    ).toEqual([NAMES.deployRole, NAMES.operatorRole, NAMES.pullRequestRole].sort());
  });

  it("lets the deploy role assume exactly its own qualifier's three bootstrap roles (not the lookup role) and read its own bootstrap and stacks", () => {
    const statements = q.policyOf(NAMES.deployRole);
    const assume = statements.filter((s) => actions([s]).includes('sts:AssumeRole'));
    expect(assume).toHaveLength(1);
    expect(list(assume[0]!.Action).sort()).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(list(assume[0]!.Resource).sort()).toEqual(
      (['deploy', 'file-publishing', 'image-publishing'] as const).map(BOOTSTRAP.roleArn).sort(),
    );
    for (const arn of list(assume[0]!.Resource)) {
      expect(arn).toContain(`:role/cdk-${FIRST.bootstrapQualifier}-`);
      expect(arn).not.toContain('*');
    }
    const readToolkit = statements.filter((s) => s !== assume[0]);
    expect(readToolkit).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'cloudformation:DescribeStacks',
        Resource: `arn:${PARTITION}:cloudformation:${FIRST.region}:${FIRST.account}:stack/${BOOTSTRAP.toolkitStack}/*`,
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:${PARTITION}:ssm:${FIRST.region}:${FIRST.account}:parameter${BOOTSTRAP.versionParameter}`,
      }),
      // The toolkit reads the deployed templates with the caller's credentials (no lookup role).
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'],
        Resource: WORKLOAD_STACK_ARNS,
      }),
      // The deploy's image preflight: does the cache hold the tag? Only the cached repository.
      ...(FIRST.image.kind === 'pull-through-cache'
        ? [
            expect.objectContaining({
              Effect: 'Allow',
              Action: 'ecr:DescribeImages',
              Resource: `arn:${PARTITION}:ecr:${FIRST.region}:${FIRST.account}:repository/${cachedRepositoryName(FIRST.image)}`,
            }),
          ]
        : []),
    ]);
    expect(statements.every((s) => s.Effect === 'Allow' && s.Condition === undefined)).toBe(true);
  });

  it('lets the pull-request role read what a template diff reads, and nothing else: no role to assume', () => {
    expect(q.policyOf(NAMES.pullRequestRole)).toEqual([
      {
        Sid: 'ReadDeployedTemplates',
        Effect: 'Allow',
        Action: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'],
        Resource: WORKLOAD_STACK_ARNS,
      },
      {
        Sid: 'ReadOwnBootstrapVersion',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:${PARTITION}:ssm:${FIRST.region}:${FIRST.account}:parameter${BOOTSTRAP.versionParameter}`,
      },
    ]);
  });

  it("has the workload stacks read deployed templates with the caller's credentials, not the lookup role", () => {
    const { app, stacks } = synthesize(environment());
    const assembly = app.synth();
    for (const stack of [stacks.network, stacks.service]) {
      expect(assembly.getStackByName(stack.stackName).lookupRole).toBeUndefined();
    }
  });

  it('lets the operator role port-forward to this cluster only, to the task itself (no remote host by default)', () => {
    const statements = q.policyOf(NAMES.operatorRole);
    const startSession = statements.find((s) => actions([s]).includes('ssm:StartSession'))!;
    expect(list(startSession.Resource).sort()).toEqual(
      [
        `arn:${PARTITION}:ecs:${FIRST.region}:${FIRST.account}:task/${NAMES.cluster}/*`,
        `arn:${PARTITION}:ssm:${FIRST.region}::document/AWS-StartPortForwardingSession`,
        ...(FIRST.remoteHostForwarding
          ? [`arn:${PARTITION}:ssm:${FIRST.region}::document/AWS-StartPortForwardingSessionToRemoteHost`]
          : []),
      ].sort(),
    );
    expect(startSession.Condition).toEqual({ BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } });
    const forwarding = [
      'ecs:DescribeServices',
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'ssm:ResumeSession',
      'ssm:StartSession',
      'ssm:TerminateSession',
    ];
    expect(actions(statements)).toEqual(expect.arrayContaining(forwarding));
    // Beyond forwarding, only reads (the stack outputs, the doctor's diagnostics) and drift detection
    // (which starts a detection that changes nothing, then reads).
    for (const action of actions(statements).filter((a) => !forwarding.includes(a))) {
      expect(action).toMatch(
        /^(cloudformation:(Describe\w+|GetTemplate|ListStackResources|DetectStack(Resource)?Drift)|ecs:Describe\w+|ec2:Describe\w+|ecr:Describe\w+|iam:(Get|List)\w+|iam:SimulatePrincipalPolicy|logs:(Describe|Get|List)\w+|kms:(Describe|Get|List)\w+|vpc-lattice:Describe\w+)$/,
      );
    }
    const listTasks = statements.find((s) => actions([s]).includes('ecs:ListTasks'))!;
    expect(listTasks.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': `arn:${PARTITION}:ecs:${FIRST.region}:${FIRST.account}:cluster/${NAMES.cluster}` },
    });
    // Never a shell: no Run Command, no ECS Exec command, no shell document.
    expect(JSON.stringify(statements)).not.toMatch(/SendCommand|ecs:ExecuteCommand|SSM-SessionManagerRunShell/);
  });

  it('offers developers the same forwarding rights as a named managed policy, as an output', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: NAMES.developerPolicy,
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ssm:StartSession' })]) },
    });
    template.hasOutput('DeveloperPolicyArn', {});
  });

  it('defines a CloudFormation execution policy that cannot open an internet path or mint unbounded roles', () => {
    const statements = q.managedPolicy(NAMES.cloudFormationExecutionPolicy);
    const allowed = actions(statements.filter((s) => s.Effect === 'Allow'));
    for (const forbidden of [
      'ec2:CreateInternetGateway',
      'ec2:AttachInternetGateway',
      'ec2:CreateNatGateway',
      'ec2:AllocateAddress',
      'ec2:CreateRoute',
      'ec2:RunInstances',
      'ec2:CreateVpcPeeringConnection',
      'iam:CreateUser',
      'iam:CreateAccessKey',
      'iam:CreatePolicy',
      'iam:CreateOpenIDConnectProvider',
    ]) {
      expect(allowed).not.toContain(forbidden);
    }
    expect(allowed.filter((action) => action === '*' || /^[a-z0-9-]+:\*$/.test(action))).toEqual([]);
    const createRole = statements.find((s) => actions([s]).includes('iam:CreateRole'))!;
    expect(createRole.Condition).toEqual({
      StringEquals: { 'iam:PermissionsBoundary': iamArn(`policy/${NAMES.permissionsBoundary}`) },
    });
    expect(list(createRole.Resource).sort()).toEqual(
      [NAMES.networkStack, NAMES.serviceStack].map((stack) => iamArn(`role/${stack}-*`)).sort(),
    );
    // Every unscoped allow is limited to the environment's region.
    for (const statement of statements.filter((s) => s.Effect === 'Allow' && list(s.Resource).includes('*'))) {
      expect(statement.Condition?.StringEquals).toMatchObject({ 'aws:RequestedRegion': FIRST.region });
    }
    // A deploy cannot change whom a workload role trusts.
    expect(allowed).not.toContain('iam:UpdateAssumeRolePolicy');
    const version = statements.find((s) => actions([s]).includes('ssm:GetParameter'))!;
    expect(version.Resource).toBe(
      `arn:${PARTITION}:ssm:${FIRST.region}:${FIRST.account}:parameter${BOOTSTRAP.versionParameter}`,
    );
    const deny = statements.find((s) => s.Effect === 'Deny')!;
    expect(actions([deny])).toContain('iam:DeleteRolePermissionsBoundary');
  });

  describe("the execution policy keeps EC2 and KMS changes to the environment's own resources", () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = q.managedPolicy(NAMES.cloudFormationExecutionPolicy);
    });
    const ec2Arn = (type: string): string => regional(`ec2:${FIRST.region}:${FIRST.account}:${type}/*`);
    const ownTag = { [`aws:ResourceTag/environment`]: FIRST.name };
    const newTag = { [`aws:RequestTag/environment`]: FIRST.name };

    it('allows EC2 changes other than Describe* only on named resource types, each statement tag-conditioned', () => {
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        const ec2 = list(statement.Action).filter((action) => action.startsWith('ec2:'));
        if (ec2.length === 0 || ec2.every((action) => action === 'ec2:Describe*')) continue;
        expect(list(statement.Resource)).not.toContain('*');
        for (const arn of list(statement.Resource))
          expect(arn).toMatch(/^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:[a-z-]+\/\*$/);
        if (statement.Sid !== 'SecurityGroupRulesOfOwnGroups') {
          expect(JSON.stringify(statement.Condition)).toMatch(/aws:(Request|Resource)Tag\/environment/);
        }
      }
      const describe = statements.find((s) => list(s.Action).includes('ec2:Describe*'))!;
      expect(list(describe.Action).filter((action) => action.startsWith('ec2:'))).toEqual(['ec2:Describe*']);
    });

    it('creates network resources only with the environment tag, inside resources that carry it', () => {
      const create = statements.find((s) => s.Sid === 'CreateNetworkResourcesTaggedForThisEnvironment')!;
      expect(create.Condition).toEqual({ StringEquals: newTag });
      const change = statements.find((s) => s.Sid === 'ChangeOwnNetworkResources')!;
      expect(change.Condition).toEqual({ StringEquals: ownTag });
      expect(list(change.Resource).sort()).toEqual(
        ['vpc', 'subnet', 'route-table', 'security-group', 'vpc-endpoint', 'vpc-flow-log'].map(ec2Arn).sort(),
      );
      for (const action of ['ec2:CreateSubnet', 'ec2:ModifyVpcEndpoint', 'ec2:AuthorizeSecurityGroupEgress'])
        expect(list(change.Action)).toContain(action);
    });

    it("creates interface endpoints only to Amazon's services (ec2:VpceServiceOwner)", () => {
      const endpoints = statements.filter(
        (s) => s.Effect === 'Allow' && list(s.Action).includes('ec2:CreateVpcEndpoint'),
      );
      for (const statement of endpoints) {
        // Either the endpoint's own ARN, with the owner condition, or the resources it names, tagged.
        if (
          list(statement.Resource).includes(ec2Arn('vpc-endpoint')) &&
          statement.Sid !== 'ChangeOwnNetworkResources'
        ) {
          expect(statement.Condition).toEqual({
            StringEquals: { ...newTag, 'ec2:VpceServiceOwner': 'amazon' },
            StringLike: { 'ec2:VpceServiceName': `com.amazonaws.${FIRST.region}.*` },
          });
        } else {
          expect(statement.Condition).toEqual({ StringEquals: ownTag });
        }
      }
    });

    it('tags only at creation with the environment tag, and re-tags only what carries it already', () => {
      const onCreate = statements.find((s) => s.Sid === 'TagOnCreate')!;
      expect(onCreate.Condition?.StringEquals).toMatchObject(newTag);
      expect(onCreate.Condition?.StringEquals?.['ec2:CreateAction']).toEqual(
        expect.arrayContaining(['CreateVpc', 'CreateSubnet', 'CreateVpcEndpoint']),
      );
      const retag = statements.find((s) => s.Sid === 'RetagOwnNetworkResources')!;
      expect(retag.Condition).toEqual({ StringEquals: ownTag, StringEqualsIfExists: newTag });
    });

    it('creates KMS keys only tagged for the environment, and holds no right on any existing key', () => {
      const kms = statements.filter((s) => list(s.Action).some((action) => action.startsWith('kms:')));
      expect(kms.flatMap((s) => list(s.Action)).sort()).toEqual(['kms:CreateKey', 'kms:TagResource']);
      for (const statement of kms) expect(statement.Condition?.StringEquals).toMatchObject(newTag);
    });
  });

  describe('the execution boundary (cdk bootstrap --custom-permissions-boundary)', () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = q.managedPolicy(NAMES.cloudFormationExecutionBoundary);
    });
    const denies = (action: string): Statement[] =>
      statements.filter((s) => s.Effect === 'Deny' && list(s.Action).includes(action));

    it('allows no more than the execution policy does (a ceiling, not a grant)', () => {
      expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
        expect.objectContaining({ Action: '*', Resource: '*' }),
      ]);
      expect(statements.filter((s) => s.Effect === 'Allow')[0]!.Condition).toBeUndefined();
    });

    it.each(['iam:CreateRole', 'iam:PutRolePermissionsBoundary'])(
      'denies %s without the workload boundary',
      (action) => {
        expect(denies(action)).toEqual([
          expect.objectContaining({
            Resource: '*',
            Condition: {
              StringNotEquals: { 'iam:PermissionsBoundary': iamArn(`policy/${NAMES.permissionsBoundary}`) },
            },
          }),
        ]);
      },
    );

    it.each(['iam:DeleteRolePermissionsBoundary', 'iam:DeleteUserPermissionsBoundary'])(
      'denies %s everywhere, unconditionally',
      (action) => {
        expect(denies(action)).toEqual([expect.objectContaining({ Resource: '*' })]);
        expect(denies(action)[0]!.Condition).toBeUndefined();
      },
    );

    it.each([
      'iam:CreateOpenIDConnectProvider',
      'iam:AddClientIDToOpenIDConnectProvider',
      'iam:UpdateOpenIDConnectProviderThumbprint',
      'iam:CreateSAMLProvider',
      'iam:CreateUser',
      'iam:CreateAccessKey',
      'iam:CreateLoginProfile',
    ])('denies the new identity %s everywhere, unconditionally', (action) => {
      expect(denies(action)).toEqual([expect.objectContaining({ Resource: '*' })]);
      expect(denies(action)[0]!.Condition).toBeUndefined();
    });

    it.each(['iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion'])(
      'denies %s on every guardrail policy',
      (action) => {
        const [deny] = denies(action);
        expect(deny).toBeDefined();
        expect(deny!.Condition).toBeUndefined();
        expect(list(deny!.Resource).sort()).toEqual(
          [NAMES.permissionsBoundary, NAMES.cloudFormationExecutionPolicy, NAMES.cloudFormationExecutionBoundary]
            .map((name) => iamArn(`policy/${name}`))
            .sort(),
        );
      },
    );

    it("denies every action but IAM's and STS's outside the environment's region", () => {
      const regional = statements.filter((s) => s.Effect === 'Deny' && s.NotAction !== undefined);
      expect(regional).toEqual([
        expect.objectContaining({
          Resource: '*',
          Condition: { StringNotEquals: { 'aws:RequestedRegion': FIRST.region } },
        }),
      ]);
      expect(list(regional[0]!.NotAction).sort()).toEqual(['iam:*', 'sts:*']);
      expect(regional[0]!.Action).toBeUndefined();
    });
  });

  it('defines the permissions boundary the workload stacks apply, with no IAM rights in it', () => {
    const allowed = actions(q.managedPolicy(NAMES.permissionsBoundary));
    expect(allowed.filter((action) => action.startsWith('iam:') || action.startsWith('sts:'))).toEqual([]);
    expect(allowed).toEqual(
      expect.arrayContaining(['ssmmessages:OpenDataChannel', 'ecr:BatchGetImage', 'logs:PutLogEvents']),
    );
  });

  it("scopes the boundary's logs, images and keys to the environment's own", () => {
    const statements = q.managedPolicy(NAMES.permissionsBoundary);
    const resourcesOf = (action: string): string[] =>
      statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource));
    // Only the actions with no resource type are on `*`.
    const unscoped = statements.filter((s) => list(s.Resource).includes('*')).flatMap((s) => list(s.Action));
    expect(unscoped.sort()).toEqual(
      [
        'ecr:GetAuthorizationToken',
        'logs:DescribeLogGroups',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ].sort(),
    );
    expect(resourcesOf('logs:PutLogEvents').sort()).toEqual(
      [NAMES.networkStack, NAMES.serviceStack]
        .map((stack) => regional(`logs:${FIRST.region}:${FIRST.account}:log-group:${stack}-*`))
        .sort(),
    );
    const repository =
      FIRST.image.kind === 'pull-through-cache' ? `${FIRST.image.repositoryPrefix}/*` : FIRST.image.repositoryName;
    for (const action of ['ecr:BatchGetImage', 'ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'])
      expect(resourcesOf(action)).toEqual([regional(`ecr:${FIRST.region}:${FIRST.account}:repository/${repository}`)]);
    const decrypt = statements.find((s) => list(s.Action).includes('kms:Decrypt'))!;
    expect(decrypt.Resource).toBe(regional(`kms:${FIRST.region}:${FIRST.account}:key/*`));
    expect(decrypt.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/environment': FIRST.name } });
  });

  it('outputs every ARN and name the set-up needs', () => {
    for (const output of [
      'GitHubOidcProviderArn',
      'PullRequestRoleArn',
      'DeployRoleArn',
      'OperatorRoleArn',
      'DeveloperPolicyArn',
      'PermissionsBoundaryArn',
      'CloudFormationExecutionPolicyArn',
      'CloudFormationExecutionBoundaryName',
    ]) {
      template.hasOutput(output, {});
    }
    template.hasOutput('GitHubOidcProviderArn', { Value: oidcProviderArn(FIRST.account, PARTITION) });
    template.hasOutput('CloudFormationExecutionPolicyArn', {
      Value: { Ref: Match.stringLikeRegexp('^CloudFormationExecutionPolicy') },
    });
  });

  it('is deployed by an administrator: no bootstrap role, no execution role, no asset, no bootstrap version check', () => {
    const { app, stacks } = synthesize(environment());
    const artifact = app.synth().getStackByName(stacks.foundation.stackName);
    expect(artifact.stackName).toBe(NAMES.foundationStack);
    expect(artifact.environment).toMatchObject({ account: FIRST.account, region: FIRST.region });
    expect(artifact.assumeRoleArn).toBeUndefined();
    expect(artifact.cloudFormationExecutionRoleArn).toBeUndefined();
    expect(artifact.lookupRole).toBeUndefined();
    expect(artifact.requiresBootstrapStackVersion).toBeUndefined();
    expect(artifact.stackTemplateAssetObjectUrl).toBeUndefined();
    expect(artifact.assets).toEqual([]);
    expect(artifact.dependencies.filter((dep) => dep.id.endsWith('.assets'))).toEqual([]);
    expect(template.toJSON().Parameters?.BootstrapVersion).toBeUndefined();
    expect(template.toJSON().Rules?.CheckBootstrapVersion).toBeUndefined();
    // The workload stacks, in contrast, go through the environment's own bootstrap.
    const network = app.synth().getStackByName(stacks.network.stackName);
    expect(network.assumeRoleArn).toContain(`cdk-${FIRST.bootstrapQualifier}-deploy-role-`);
    expect(network.cloudFormationExecutionRoleArn).toContain(`cdk-${FIRST.bootstrapQualifier}-cfn-exec-role-`);
  });
});

describe('foundation stack options', () => {
  const subjectsOf = (config: EnvironmentConfig): string[] => {
    const q = inspect(synthesize(config).foundation);
    return [NAMES.pullRequestRole, NAMES.deployRole, NAMES.operatorRole].flatMap((name) => q.subjects(name));
  };
  const expectedSubjects = (prefix: string): string[] => [
    `${prefix}:pull_request`,
    `${prefix}:environment:${FIRST.name}`,
    `${prefix}:environment:${FIRST.name}`,
  ];
  const idClaims = (config: EnvironmentConfig): unknown[] =>
    [NAMES.deployRole, NAMES.operatorRole].map((name) => {
      const conditions = inspect(synthesize(config).foundation).role(name).Properties.AssumeRolePolicyDocument
        .Statement[0].Condition.StringEquals as Record<string, unknown>;
      return [conditions[`${GITHUB_OIDC_HOST}:repository_id`], conditions[`${GITHUB_OIDC_HOST}:repository_owner_id`]];
    });

  it('uses the legacy subject format when no ids are configured', () => {
    const config = environment(FIRST.name, { github: { ownerId: undefined, repoId: undefined } });
    expect(subjectPrefix(config.github)).toBe(`repo:${FIRST.github.owner}/${FIRST.github.repo}`);
    expect(subjectsOf(config)).toEqual(expectedSubjects(`repo:${FIRST.github.owner}/${FIRST.github.repo}`));
    // Without ids, the trust cannot tell a repository recreated under the same name: no id claims.
    expect(idClaims(config)).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it('uses the immutable subject format when the owner and repository ids are configured', () => {
    const config = environment(FIRST.name, { github: IDS });
    const prefix = `repo:${FIRST.github.owner}-${IDS.ownerId}/${FIRST.github.repo}-${IDS.repoId}`;
    expect(subjectPrefix(config.github)).toBe(prefix);
    expect(subjectsOf(config)).toEqual(expectedSubjects(prefix));
    expect(idClaims(config)).toEqual([
      [IDS.repoId, IDS.ownerId],
      [IDS.repoId, IDS.ownerId],
    ]);
  });

  it.each([true, false])(
    'allows the remote-host forwarding document only when the environment asks for it (%s)',
    (remoteHostForwarding) => {
      const q = inspect(synthesize(environment(FIRST.name, { remoteHostForwarding })).foundation);
      for (const statements of [q.policyOf(NAMES.operatorRole), q.managedPolicy(NAMES.developerPolicy)]) {
        const startSession = statements.find((s) => actions([s]).includes('ssm:StartSession'))!;
        expect(JSON.stringify(startSession.Resource).includes('AWS-StartPortForwardingSessionToRemoteHost')).toBe(
          remoteHostForwarding,
        );
        expect(JSON.stringify(startSession.Resource)).toContain('document/AWS-StartPortForwardingSession"');
      }
    },
  );

  it('follows an explicit bootstrap qualifier', () => {
    const qualifier = FIRST.bootstrapQualifier === 'custom1' ? 'custom2' : 'custom1';
    const q = inspect(synthesize(environment(FIRST.name, { bootstrapQualifier: qualifier })).foundation);
    const custom = bootstrapNames({ ...FIRST, qualifier, partition: PARTITION });
    const assume = q.policyOf(NAMES.deployRole).find((s) => actions([s]).includes('sts:AssumeRole'))!;
    expect(list(assume.Resource).sort()).toEqual(
      (['deploy', 'file-publishing', 'image-publishing'] as const).map(custom.roleArn).sort(),
    );
  });

  it('deploys with no provider stack when the account has the provider already, and trusts it by ARN', () => {
    const synthesized = synthesize(environment(FIRST.name, { github: { oidcProviderExists: true } }));
    expect(synthesized.oidcProvider).toBeUndefined();
    expect(synthesized.stacks.oidcProvider).toBeUndefined();
    expect(synthesized.app.node.children.filter((child) => child instanceof GitHubOidcProviderStack)).toEqual([]);
    expect(synthesized.stacks.foundation.dependencies).toEqual([]);
    for (const role of resourcesOfType(synthesized.foundation, 'AWS::IAM::Role')) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
        Federated: oidcProviderArn(FIRST.account, PARTITION),
      });
    }
  });
});

describe('GitHub OIDC provider stack', () => {
  it("creates the account's provider for GitHub's issuer with the STS audience, deployed by an administrator", () => {
    const { app, stacks, oidcProvider } = synthesize(
      environment(FIRST.name, { github: { oidcProviderExists: false } }),
    );
    expect(oidcProvider).toBeDefined();
    oidcProvider!.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    oidcProvider!.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    expect(Object.keys(oidcProvider!.toJSON().Resources)).toHaveLength(1);
    oidcProvider!.hasOutput('GitHubOidcProviderArn', {});
    expect(stacks.oidcProvider!.stackName).toBe(OIDC_PROVIDER_STACK);
    expect(stacks.oidcProvider!.account).toBe(FIRST.account);
    expect(stacks.foundation.dependencies).toEqual([stacks.oidcProvider]);
    const artifact = app.synth().getStackByName(OIDC_PROVIDER_STACK);
    expect(artifact.assumeRoleArn).toBeUndefined();
    expect(artifact.cloudFormationExecutionRoleArn).toBeUndefined();
    expect(artifact.assets).toEqual([]);
  });

  it('is shared by the environments of one account, and each foundation depends on it', () => {
    const companion = companionEnvironment(FIRST);
    const configs = resolveEnvironments([
      environment(FIRST.name, { github: { oidcProviderExists: false } }),
      companion,
    ]);
    const app = new App({ context: cdkJsonContext() });
    const stacks = addEnvironments(app, configs);
    const providers = app.node.children.filter((child) => child instanceof GitHubOidcProviderStack);
    expect(providers).toHaveLength(1);
    const first = stacks.get(FIRST.name)!;
    const second = stacks.get(companion.name)!;
    expect(first.oidcProvider).toBe(providers[0]);
    expect(second.oidcProvider).toBe(providers[0]);
    const assembly = app.synth();
    for (const env of [first, second]) {
      expect(env.foundation.dependencies).toEqual([providers[0]]);
      const artifact = assembly.getStackByName(env.foundation.stackName);
      expect(artifact.dependencies.map((dep) => dep.id)).toEqual([
        (providers[0] as GitHubOidcProviderStack).artifactId,
      ]);
      // The workload stacks need no provider: they are deployed through the bootstrap.
      expect(env.network.dependencies).not.toContain(providers[0]);
    }
    expect(Template.fromStack(second.foundation).toJSON()).not.toEqual(Template.fromStack(first.foundation).toJSON());
  });

  it('is one per account: an environment in another account gets its own', () => {
    const companion = companionEnvironment(FIRST, unconfiguredAccount());
    const app = new App({ context: cdkJsonContext() });
    const stacks = addEnvironments(
      app,
      resolveEnvironments([environment(FIRST.name, { github: { oidcProviderExists: false } }), companion]),
    );
    const first = stacks.get(FIRST.name)!.oidcProvider!;
    const second = stacks.get(companion.name)!.oidcProvider!;
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect([first.stackName, second.stackName]).toEqual([OIDC_PROVIDER_STACK, OIDC_PROVIDER_STACK]);
    expect([first.account, second.account]).toEqual([FIRST.account, companion.account]);
    const trust = resourcesOfType(Template.fromStack(stacks.get(companion.name)!.foundation), 'AWS::IAM::Role').map(
      (role) => role.Properties.AssumeRolePolicyDocument.Statement[0].Principal,
    );
    expect(trust).toHaveLength(3);
    for (const principal of trust)
      expect(principal).toEqual({ Federated: oidcProviderArn(companion.account, PARTITION) });
  });
});
