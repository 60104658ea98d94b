import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  GetRoleCommand,
  IAMClient,
  SimulatePrincipalPolicyCommand,
  type PolicyEvaluationDecisionType,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { checkCallerStartSession } from '../../src/doctor/checks/caller-start-session.js';
import { checkTaskRole } from '../../src/doctor/checks/task-role.js';
import { cidrContains } from '../../src/doctor/cidr.js';
import { gatherFacts, simulationFailure } from '../../src/doctor/gather.js';
import { failed, formatFindings, type DoctorFinding } from '../../src/doctor/index.js';
import { decide, wildcardMatch } from '../../src/doctor/policy.js';
import type { DoctorFacts, NamedPolicy, TaskRoleFacts } from '../../src/doctor/types.js';
import { PORT_FORWARDING_DOCUMENT, resourceNames } from '../../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../../infra/lib/project.js';

/** The first configured environment's service, in its account and region. */
const ENV = ENVIRONMENTS[0]!;
const NAMES = resourceNames(ENV);
const ACCOUNT = ENV.account;
const TARGET = { cluster: NAMES.cluster, service: NAMES.service, container: NAMES.container, region: ENV.region };
const TASK_ARN = `arn:aws:ecs:${ENV.region}:${ACCOUNT}:task/${NAMES.cluster}/0123456789abcdef0123456789abcdef`;
const DOCUMENT_ARN = `arn:aws:ssm:${ENV.region}::document/${PORT_FORWARDING_DOCUMENT}`;
const SSO_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_abc`;

describe('caller-start-session (IAM stubbed)', () => {
  const ecs = mockClient(ECSClient);
  const iam = mockClient(IAMClient);
  const sts = mockClient(STSClient);
  const ec2 = mockClient(EC2Client);

  beforeEach(() => {
    for (const mock of [ecs, iam, sts, ec2]) mock.reset();
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: NAMES.service, status: 'ACTIVE' }] });
    ecs.on(ListTasksCommand).resolves({ taskArns: [TASK_ARN] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING' }] });
    sts.on(GetCallerIdentityCommand).resolves({
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Developer_abc/alice`,
      Account: ACCOUNT,
    });
    // SSO roles live under a path: the simulated principal must be the role's real ARN.
    iam.on(GetRoleCommand, { RoleName: 'AWSReservedSSO_Developer_abc' }).resolves({
      Role: {
        RoleName: 'AWSReservedSSO_Developer_abc',
        Arn: SSO_ROLE_ARN,
        Path: '/aws-reserved/sso.amazonaws.com/',
        RoleId: 'AROA',
        CreateDate: new Date(),
      },
    });
  });

  const facts = (): Promise<DoctorFacts> =>
    gatherFacts(
      { ecs: new ECSClient({}), ec2: new EC2Client({}), iam: new IAMClient({}), sts: new STSClient({}) },
      TARGET,
    );
  const decision = (resource: string, EvalDecision: PolicyEvaluationDecisionType): void => {
    iam.on(SimulatePrincipalPolicyCommand, { ResourceArns: [resource] }).resolves({
      EvaluationResults: [{ EvalActionName: 'ssm:StartSession', EvalResourceName: resource, EvalDecision }],
    });
  };

  it('is ok when both the task and the document are allowed, simulating the role (not the session)', async () => {
    decision(TASK_ARN, 'allowed');
    decision(DOCUMENT_ARN, 'allowed');
    const finding = checkCallerStartSession(await facts());
    expect(finding.status).toBe('ok');
    const calls = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.PolicySourceArn)).toEqual([SSO_ROLE_ARN, SSO_ROLE_ARN]);
    expect(calls.map((c) => [c.ActionNames, c.ResourceArns])).toEqual([
      [['ssm:StartSession'], [TASK_ARN]],
      [['ssm:StartSession'], [DOCUMENT_ARN]],
    ]);
  });

  it('fails with the fix when the simulation denies the task', async () => {
    decision(TASK_ARN, 'implicitDeny');
    decision(DOCUMENT_ARN, 'allowed');
    const finding = checkCallerStartSession(await facts());
    expect(finding).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`may not ssm:StartSession on ${TASK_ARN} (implicitDeny)`),
      fix: expect.stringContaining(`Attach the developer policy ${NAMES.developerPolicy}`),
    });
  });

  it('is skipped, never passed, when the caller may not simulate', async () => {
    iam.on(SimulatePrincipalPolicyCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: iam:SimulatePrincipalPolicy'), {
        name: 'AccessDenied',
      }),
    );
    const finding = checkCallerStartSession(await facts());
    expect(finding.status).toBe('skip');
    expect(finding.message).toContain(
      'could not run: AccessDenied: User is not authorized to perform: iam:SimulatePrincipalPolicy',
    );
  });

  it('describes an endpoint that does not implement the API in one line', () => {
    const error = Object.assign(new Error('XML parse error: mismatched tags\n  Deserialization error: ...'), {
      $metadata: { httpStatusCode: 500 },
    });
    expect(simulationFailure(error)).toBe('the IAM endpoint does not implement it (HTTP 500, not an IAM response)');
  });
});

describe('task-role', () => {
  const ALL = [
    'ssmmessages:CreateControlChannel',
    'ssmmessages:CreateDataChannel',
    'ssmmessages:OpenControlChannel',
    'ssmmessages:OpenDataChannel',
  ];
  const policy = (...Statement: object[]): NamedPolicy => ({ name: 'p', document: { Statement } });
  const check = (role: TaskRoleFacts): DoctorFinding =>
    checkTaskRole({ taskRole: { value: role } } as unknown as DoctorFacts);
  const roleArn = 'arn:aws:iam::1:role/task';

  it('accepts a wildcard action and rejects an explicit Deny', () => {
    expect(
      check({ roleArn, policies: [policy({ Effect: 'Allow', Action: 'ssmmessages:*', Resource: '*' })] }).status,
    ).toBe('ok');
    const denied = check({
      roleArn,
      policies: [
        policy({ Effect: 'Allow', Action: ALL, Resource: '*' }),
        policy({ Effect: 'Deny', Action: 'ssmmessages:Open*', Resource: '*' }),
      ],
    });
    expect(denied).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('OpenControlChannel, ssmmessages:OpenDataChannel'),
    });
  });

  it('fails when the permissions boundary leaves the actions out', () => {
    const finding = check({
      roleArn,
      policies: [policy({ Effect: 'Allow', Action: ALL, Resource: '*' })],
      boundary: { name: 'boundary', document: { Statement: [{ Effect: 'Allow', Action: 'logs:*', Resource: '*' }] } },
    });
    expect(finding).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('permissionsBoundaryStatements() in infra/lib/iam-policies.ts'),
    });
  });

  it('warns when only a conditional statement allows them', () => {
    const finding = check({
      roleArn,
      policies: [
        policy({ Effect: 'Allow', Action: ALL, Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }),
      ],
    });
    expect(finding.status).toBe('warn');
  });
});

describe('policy and CIDR helpers', () => {
  it('matches IAM wildcards case-insensitively', () => {
    expect(wildcardMatch('ssmmessages:Create*', 'ssmmessages:CreateDataChannel')).toBe(true);
    expect(wildcardMatch('SSMMESSAGES:opendatachannel', 'ssmmessages:OpenDataChannel')).toBe(true);
    expect(wildcardMatch('ssm:*', 'ssmmessages:OpenDataChannel')).toBe(false);
    expect(
      decide(
        [{ name: 'n', document: { Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } } }],
        'ssmmessages:OpenDataChannel',
      ),
    ).toBe('allowed');
    expect(decide([], 'ssmmessages:OpenDataChannel')).toBe('implicitDeny');
  });

  it('contains subnets in CIDRs', () => {
    expect(cidrContains('10.10.0.0/22', '10.10.2.0/23')).toBe(true);
    expect(cidrContains('0.0.0.0/0', '10.10.2.0/23')).toBe(true);
    expect(cidrContains('10.10.0.0/23', '10.10.2.0/23')).toBe(false);
    expect(cidrContains('10.10.2.0/24', '10.10.2.0/23')).toBe(false);
    expect(cidrContains('not-a-cidr', '10.10.2.0/23')).toBe(false);
  });
});

describe('formatFindings and failed', () => {
  const findings: DoctorFinding[] = [
    {
      check: 'service-exec',
      status: 'fail',
      message: 'ECS Exec is off',
      fix: 'aws ecs update-service ...\nIn CDK: ...',
    },
    { check: 'agent', status: 'ok', message: 'RUNNING' },
    { check: 'exec-logging', status: 'warn', message: 'no log group' },
    { check: 'caller-start-session', status: 'skip', message: 'not checked: denied' },
  ];

  it('prints one line per check with its mark, the fix indented, and a summary', () => {
    expect(formatFindings(findings)).toBe(
      [
        '✖ service-exec          ECS Exec is off',
        '                        fix: aws ecs update-service ...',
        '                             In CDK: ...',
        '✔ agent                 RUNNING',
        '! exec-logging          no log group',
        '– caller-start-session  not checked: denied',
        '1 failed, 1 warning, 1 skipped, 1 ok',
      ].join('\n'),
    );
  });

  it('keeps only failures', () => {
    expect(failed(findings).map((f) => f.check)).toEqual(['service-exec']);
  });
});
