import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** What the policies below are scoped to: one environment's account, region and names. */
export interface PolicyScope {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly clusterName: string;
  /** Stack names whose generated resource names (roles, log groups) the execution policy may manage. */
  readonly workloadStackNames: readonly string[];
  readonly boundaryPolicyName: string;
  readonly executionPolicyName: string;
  readonly executionBoundaryName: string;
  readonly bootstrapQualifier: string;
}

/** The only documents a forwarding principal may start a session with: never a shell. */
export const PORT_FORWARDING_DOCUMENTS = [
  'AWS-StartPortForwardingSession',
  'AWS-StartPortForwardingSessionToRemoteHost',
] as const;

const arn = (
  scope: PolicyScope,
  service: string,
  resource: string,
  region = scope.region,
  account = scope.account,
): string => `arn:${scope.partition}:${service}:${region}:${account}:${resource}`;

/**
 * Rights to find the service's running task and port-forward to it through SSM, for the smoke
 * test's operator role and (as a managed policy) for human developers.
 */
export function portForwardingStatements(scope: PolicyScope): iam.PolicyStatement[] {
  const clusterArn = arn(scope, 'ecs', `cluster/${scope.clusterName}`);
  const tasksArn = arn(scope, 'ecs', `task/${scope.clusterName}/*`);
  return [
    new iam.PolicyStatement({
      sid: 'ListTasksOfThisCluster',
      actions: ['ecs:ListTasks'],
      resources: ['*'], // ListTasks is scoped by the ecs:cluster condition, not by resource
      conditions: { ArnEquals: { 'ecs:cluster': clusterArn } },
    }),
    new iam.PolicyStatement({
      sid: 'DescribeThisCluster',
      actions: ['ecs:DescribeTasks', 'ecs:DescribeServices'],
      resources: [tasksArn, arn(scope, 'ecs', `service/${scope.clusterName}/*`)],
    }),
    new iam.PolicyStatement({
      sid: 'PortForwardToThisClusterOnly',
      actions: ['ssm:StartSession'],
      resources: [
        tasksArn,
        ...PORT_FORWARDING_DOCUMENTS.map((name) => arn(scope, 'ssm', `document/${name}`, scope.region, '')),
      ],
      // Without this, a StartSession that names no document would open the default shell.
      conditions: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
    }),
    new iam.PolicyStatement({
      sid: 'EndOrResumeOwnSessions',
      actions: ['ssm:TerminateSession', 'ssm:ResumeSession'],
      // Session Manager tags every session with its creator's aws:userid. Matching the tag works for
      // IAM users, assumed roles and SSO users alike, where a session-id prefix would not: a role
      // session's id starts with the role session name, which no policy variable carries alone.
      resources: [arn(scope, 'ssm', 'session/*')],
      conditions: { StringLike: { 'ssm:resourceTag/aws:ssmmessages:session-id': ['${aws:userid}'] } },
    }),
  ];
}

/**
 * Read-only rights the smoke test needs beyond forwarding: the service stack's outputs (to find the
 * service from the environment name) and what the doctor reads to explain a failure (task
 * definition, cluster exec configuration, the task role's policies, the VPC's endpoints and
 * security groups, whether the caller may start a session, the exec log group). Nothing here
 * changes anything.
 */
export function operatorDiagnosticStatements(scope: PolicyScope, operatorRoleName: string): iam.PolicyStatement[] {
  const serviceStack =
    scope.workloadStackNames.find((name) => name.endsWith('-service')) ?? scope.workloadStackNames[0]!;
  return [
    new iam.PolicyStatement({
      sid: 'ReadServiceStackOutputs',
      actions: ['cloudformation:DescribeStacks'],
      resources: [arn(scope, 'cloudformation', `stack/${serviceStack}/*`)],
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadsClusterAndTaskDefinitions',
      actions: ['ecs:DescribeClusters', 'ecs:DescribeTaskDefinition'],
      resources: ['*'], // DescribeTaskDefinition has no resource type
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadsTheNetwork',
      actions: [
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcAttribute',
        'ec2:DescribeVpcEndpoints',
        'ec2:DescribeSecurityGroups',
      ],
      resources: ['*'], // EC2 Describe* actions have no resource type
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadsTheTaskRole',
      actions: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
      resources: scope.workloadStackNames.map(
        (stack) => `arn:${scope.partition}:iam::${scope.account}:role/${stack}-*`,
      ),
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadsAttachedPolicies',
      actions: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
      resources: [`arn:${scope.partition}:iam::${scope.account}:policy/*`, `arn:${scope.partition}:iam::aws:policy/*`],
    }),
    new iam.PolicyStatement({
      sid: 'DoctorSimulatesItsOwnStartSession',
      actions: ['iam:SimulatePrincipalPolicy'],
      resources: [`arn:${scope.partition}:iam::${scope.account}:role/${operatorRoleName}`],
    }),
    new iam.PolicyStatement({
      sid: 'DoctorFindsTheExecLogGroup',
      actions: ['logs:DescribeLogGroups'],
      resources: ['*'],
    }),
  ];
}

/**
 * The ceiling of every role the workload stacks create: what a task, its image pull and its ECS
 * Exec agent, and the VPC flow log delivery can ever need. Even a reviewed-in mistake cannot
 * give a workload role more.
 */
export function permissionsBoundaryStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'PullImages',
      actions: [
        'ecr:GetAuthorizationToken',
        'ecr:BatchCheckLayerAvailability',
        'ecr:GetDownloadUrlForLayer',
        'ecr:BatchGetImage',
        'ecr:BatchImportUpstreamImage',
        'ecr:CreateRepository',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'WriteLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'EcsExecAgent',
      actions: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
      resources: ['*'],
    }),
  ];
}

/** The services whose service-linked roles a deploy may create: ECS, and ECR's pull-through cache. */
const SERVICE_LINKED_ROLE_SERVICES = ['ecs.amazonaws.com', 'pullthroughcache.ecr.amazonaws.com'] as const;

/**
 * The CloudFormation execution policy for `cdk bootstrap --cloudformation-execution-policies`,
 * instead of AdministratorAccess: only the services the network and service stacks use, IAM only
 * for roles that carry the permissions boundary, and nothing that opens a path to the internet
 * (no internet or NAT gateway, no elastic IP, no route, no instance).
 */
export function cloudFormationExecutionStatements(scope: PolicyScope): iam.PolicyStatement[] {
  const boundaryArn = `arn:${scope.partition}:iam::${scope.account}:policy/${scope.boundaryPolicyName}`;
  const workloadRoles = scope.workloadStackNames.map(
    (stack) => `arn:${scope.partition}:iam::${scope.account}:role/${stack}-*`,
  );
  const workloadLogGroups = scope.workloadStackNames.map((stack) => arn(scope, 'logs', `log-group:${stack}-*`));
  const inRegion = { StringEquals: { 'aws:RequestedRegion': scope.region } };
  return [
    new iam.PolicyStatement({
      sid: 'PrivateNetwork',
      actions: [
        'ec2:Describe*',
        'ec2:CreateVpc',
        'ec2:DeleteVpc',
        'ec2:ModifyVpcAttribute',
        'ec2:CreateSubnet',
        'ec2:DeleteSubnet',
        'ec2:ModifySubnetAttribute',
        'ec2:CreateRouteTable',
        'ec2:DeleteRouteTable',
        'ec2:AssociateRouteTable',
        'ec2:DisassociateRouteTable',
        'ec2:ReplaceRouteTableAssociation',
        'ec2:CreateSecurityGroup',
        'ec2:DeleteSecurityGroup',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:UpdateSecurityGroupRuleDescriptionsIngress',
        'ec2:UpdateSecurityGroupRuleDescriptionsEgress',
        'ec2:CreateVpcEndpoint',
        'ec2:DeleteVpcEndpoints',
        'ec2:ModifyVpcEndpoint',
        'ec2:CreateFlowLogs',
        'ec2:DeleteFlowLogs',
        'ec2:CreateTags',
        'ec2:DeleteTags',
        // The flow-log handler reads tags through Auto Scaling too (its schema lists it).
        'autoscaling:DescribeTags',
      ],
      resources: ['*'],
      conditions: inRegion,
    }),
    new iam.PolicyStatement({
      sid: 'FargateService',
      actions: [
        'ecs:CreateCluster',
        'ecs:DeleteCluster',
        'ecs:UpdateCluster',
        'ecs:UpdateClusterSettings',
        'ecs:PutClusterCapacityProviders',
        'ecs:DescribeCapacityProviders',
        'ecs:DescribeClusters',
        'ecs:RegisterTaskDefinition',
        'ecs:DeregisterTaskDefinition',
        'ecs:DescribeTaskDefinition',
        'ecs:CreateService',
        'ecs:UpdateService',
        'ecs:DeleteService',
        'ecs:DescribeServices',
        'ecs:DescribeServiceDeployments',
        'ecs:ListServiceDeployments',
        'ecs:StopServiceDeployment',
        // The cluster handler lists the account-level ECS settings among its update permissions.
        'ecs:PutAccountSetting',
        'ecs:PutAccountSettingDefault',
        'ecs:TagResource',
        'ecs:UntagResource',
        'ecs:ListTagsForResource',
        'ecr:CreatePullThroughCacheRule',
        'ecr:DeletePullThroughCacheRule',
        'ecr:DescribePullThroughCacheRules',
        'ecr:UpdatePullThroughCacheRule',
        'ecr:DescribeRepositories',
        'logs:DescribeLogGroups',
      ],
      resources: ['*'],
      conditions: inRegion,
    }),
    new iam.PolicyStatement({
      sid: 'WorkloadLogGroups',
      actions: [
        'logs:CreateLogGroup',
        'logs:DeleteLogGroup',
        'logs:PutRetentionPolicy',
        'logs:DeleteRetentionPolicy',
        'logs:TagResource',
        'logs:UntagResource',
        'logs:TagLogGroup',
        'logs:ListTagsForResource',
        'logs:ListTagsLogGroup',
      ],
      resources: workloadLogGroups,
    }),
    new iam.PolicyStatement({
      sid: 'CreateBoundedRolesOnly',
      actions: [
        'iam:CreateRole',
        'iam:PutRolePermissionsBoundary',
        'iam:PutRolePolicy',
        'iam:DeleteRolePolicy',
        'iam:AttachRolePolicy',
        'iam:DetachRolePolicy',
      ],
      resources: workloadRoles,
      conditions: { StringEquals: { 'iam:PermissionsBoundary': boundaryArn } },
    }),
    new iam.PolicyStatement({
      sid: 'ManageWorkloadRoles',
      actions: [
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListRolePolicies',
        'iam:ListAttachedRolePolicies',
        'iam:DeleteRole',
        'iam:TagRole',
        'iam:UntagRole',
        'iam:UpdateRole',
        'iam:UpdateRoleDescription',
        'iam:UpdateAssumeRolePolicy',
      ],
      resources: workloadRoles,
    }),
    new iam.PolicyStatement({
      sid: 'PassWorkloadRolesToTheirServices',
      actions: ['iam:PassRole'],
      resources: workloadRoles,
      conditions: {
        StringEquals: { 'iam:PassedToService': ['ecs-tasks.amazonaws.com', 'vpc-flow-logs.amazonaws.com'] },
      },
    }),
    new iam.PolicyStatement({
      sid: 'EcsAndEcrServiceLinkedRoles',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: SERVICE_LINKED_ROLE_SERVICES.map(
        (service) => `arn:${scope.partition}:iam::${scope.account}:role/aws-service-role/${service}/*`,
      ),
      conditions: { StringEquals: { 'iam:AWSServiceName': [...SERVICE_LINKED_ROLE_SERVICES] } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadBootstrapVersion',
      actions: ['ssm:GetParameter', 'ssm:GetParameters'],
      resources: [arn(scope, 'ssm', `parameter/cdk-bootstrap/${scope.bootstrapQualifier}/version`)],
    }),
    new iam.PolicyStatement({
      sid: 'NeverLoosenTheGuardrails',
      effect: iam.Effect.DENY,
      actions: [
        'iam:DeleteRolePermissionsBoundary',
        'iam:CreatePolicyVersion',
        'iam:DeletePolicy',
        'iam:DeletePolicyVersion',
        'iam:SetDefaultPolicyVersion',
      ],
      resources: [...guardrailPolicyArns(scope), ...workloadRoles],
    }),
  ];
}

/** The managed policies that make up an environment's guardrails. */
function guardrailPolicyArns(scope: PolicyScope): string[] {
  return [scope.boundaryPolicyName, scope.executionPolicyName, scope.executionBoundaryName].map(
    (name) => `arn:${scope.partition}:iam::${scope.account}:policy/${name}`,
  );
}

/**
 * The permissions boundary of the CDK bootstrap's CloudFormation execution role
 * (`cdk bootstrap --custom-permissions-boundary`). The execution policy grants; this boundary is
 * the part no change to that policy can lift: the execution role can never mint an identity,
 * create or re-bound a role without the workload boundary, loosen a guardrail policy, or act
 * outside the environment's region (IAM and STS are global, so they are exempt from the region
 * rule).
 */
export function executionBoundaryStatements(scope: PolicyScope): iam.PolicyStatement[] {
  const boundaryArn = `arn:${scope.partition}:iam::${scope.account}:policy/${scope.boundaryPolicyName}`;
  return [
    new iam.PolicyStatement({
      sid: 'CeilingIsTheExecutionPolicy',
      actions: ['*'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'NoRoleWithoutTheWorkloadBoundary',
      effect: iam.Effect.DENY,
      actions: ['iam:CreateRole', 'iam:PutRolePermissionsBoundary'],
      resources: ['*'],
      conditions: { StringNotEquals: { 'iam:PermissionsBoundary': boundaryArn } },
    }),
    new iam.PolicyStatement({
      sid: 'NoBoundaryRemoval',
      effect: iam.Effect.DENY,
      actions: ['iam:DeleteRolePermissionsBoundary', 'iam:DeleteUserPermissionsBoundary'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'NoNewIdentities',
      effect: iam.Effect.DENY,
      actions: [
        'iam:CreateUser',
        'iam:CreateAccessKey',
        'iam:CreateLoginProfile',
        'iam:CreateOpenIDConnectProvider',
        'iam:CreateSAMLProvider',
        'iam:UpdateOpenIDConnectProviderThumbprint',
        'iam:AddClientIDToOpenIDConnectProvider',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'NoGuardrailChange',
      effect: iam.Effect.DENY,
      actions: [
        'iam:CreatePolicyVersion',
        'iam:DeletePolicy',
        'iam:DeletePolicyVersion',
        'iam:SetDefaultPolicyVersion',
      ],
      resources: guardrailPolicyArns(scope),
    }),
    new iam.PolicyStatement({
      sid: 'OnlyThisRegion',
      effect: iam.Effect.DENY,
      notActions: ['iam:*', 'sts:*'],
      resources: ['*'],
      conditions: { StringNotEquals: { 'aws:RequestedRegion': scope.region } },
    }),
  ];
}

/** The policy scope of the stack being synthesized, with CloudFormation pseudo parameters. */
export function pseudoScope(fields: Omit<PolicyScope, 'account' | 'region' | 'partition'>): PolicyScope {
  return { account: Aws.ACCOUNT_ID, region: Aws.REGION, partition: Aws.PARTITION, ...fields };
}
