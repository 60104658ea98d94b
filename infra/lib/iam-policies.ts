import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ENVIRONMENT_TAG, PORT_FORWARDING_DOCUMENT, REMOTE_HOST_FORWARDING_DOCUMENT } from './names.js';

/** What the policies below are scoped to: one environment's account, region and names. */
export interface PolicyScope {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** The environment's name: the value of the `environment` tag its stacks (and so their resources) carry. */
  readonly environmentName: string;
  readonly clusterName: string;
  /** Stack names whose generated resource names (roles, log groups) the execution policy may manage. */
  readonly workloadStackNames: readonly string[];
  readonly boundaryPolicyName: string;
  readonly executionPolicyName: string;
  readonly executionBoundaryName: string;
  readonly bootstrapQualifier: string;
  /**
   * The ECR repositories the tasks pull from, as names or name patterns: the pull-through cache
   * prefix's repositories (`<prefix>/*`) or the configured repository.
   */
  readonly imageRepositories: readonly string[];
  /** Whether forwarding through the task to another host is allowed (config `remoteHostForwarding`). */
  readonly remoteHostForwarding: boolean;
}

/**
 * The only documents a forwarding principal may start a session with: never a shell. Forwarding
 * through the task to another host only when the environment's configuration asks for it.
 */
export function portForwardingDocuments(scope: Pick<PolicyScope, 'remoteHostForwarding'>): string[] {
  return [PORT_FORWARDING_DOCUMENT, ...(scope.remoteHostForwarding ? [REMOTE_HOST_FORWARDING_DOCUMENT] : [])];
}

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
        ...portForwardingDocuments(scope).map((name) => arn(scope, 'ssm', `document/${name}`, scope.region, '')),
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
/**
 * Drift detection of the environment's workload stacks (drift.yml, as the operator role): the
 * CloudFormation calls, and the read access to each resource the stacks hold, which drift
 * detection needs from its caller (AWS CloudFormation User Guide, "Detect drift on an entire
 * CloudFormation stack", considerations: read access to each resource; checked 2026-12-01).
 * Nothing here changes anything.
 */
export function driftDetectionStatements(scope: PolicyScope): iam.PolicyStatement[] {
  const stacks = scope.workloadStackNames.map((stack) => arn(scope, 'cloudformation', `stack/${stack}/*`));
  return [
    new iam.PolicyStatement({
      sid: 'DetectDriftOfTheWorkloadStacks',
      actions: [
        'cloudformation:DetectStackDrift',
        'cloudformation:DetectStackResourceDrift',
        'cloudformation:DescribeStackResourceDrifts',
        'cloudformation:DescribeStacks',
        'cloudformation:GetTemplate',
        'cloudformation:ListStackResources',
      ],
      resources: stacks,
    }),
    new iam.PolicyStatement({
      sid: 'FollowDriftDetection',
      actions: ['cloudformation:DescribeStackDriftDetectionStatus'],
      resources: ['*'], // no resource type: it takes the detection id
    }),
    new iam.PolicyStatement({
      // The read handlers of the stacks' resource types (CloudFormation resource schemas,
      // handlers.read.permissions, test/helpers/iam/data/cloudformation-handler-permissions.json).
      sid: 'DriftReadsTheResources',
      actions: [
        'ec2:DescribeFlowLogs',
        'ec2:DescribeNetworkAcls',
        'ec2:DescribeRouteTables',
        'ec2:DescribeSecurityGroupRules',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcAttribute',
        'ec2:DescribeVpcEncryptionControls',
        'ec2:DescribeVpcEndpoints',
        'ec2:DescribeVpcs',
        'ecr:DescribePullThroughCacheRules',
        'ecs:DescribeClusters',
        'ecs:DescribeServices',
        'ecs:DescribeTaskDefinition',
        'logs:DescribeLogGroups',
        'logs:DescribeResourcePolicies',
        // The VPC endpoint schema also lists vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation,
        // which is no IAM action (cfn-lint W3037, the Service Authorization Reference): left out.
      ],
      resources: ['*'], // Describe* and these reads have no resource-level scope
      conditions: { StringEquals: { 'aws:RequestedRegion': scope.region } },
    }),
    new iam.PolicyStatement({
      sid: 'DriftReadsTheLogGroups',
      actions: ['logs:ListTagsForResource', 'logs:GetDataProtectionPolicy', 'logs:DescribeIndexPolicies'],
      resources: scope.workloadStackNames.map((stack) => arn(scope, 'logs', `log-group:${stack}-*`)),
    }),
    new iam.PolicyStatement({
      sid: 'DriftReadsTheRolesAndKey',
      actions: [
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListRolePolicies',
        'iam:ListAttachedRolePolicies',
        'kms:DescribeKey',
        'kms:GetKeyPolicy',
        'kms:GetKeyRotationStatus',
        'kms:ListResourceTags',
      ],
      resources: [
        ...scope.workloadStackNames.map((stack) => `arn:${scope.partition}:iam::${scope.account}:role/${stack}-*`),
        `arn:${scope.partition}:kms:${scope.region}:${scope.account}:key/*`,
      ],
    }),
  ];
}

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

/** The log groups of the workload stacks: CloudFormation names them `<stack>-<logical id>-<suffix>`. */
function workloadLogGroupArns(scope: PolicyScope): string[] {
  return scope.workloadStackNames.map((stack) => arn(scope, 'logs', `log-group:${stack}-*`));
}

/** The condition that a request carries the environment's tag (on a resource it creates or tags). */
const requestTagged = (scope: PolicyScope) => ({ [`aws:RequestTag/${ENVIRONMENT_TAG}`]: scope.environmentName });
/** The condition that the resource acted on carries the environment's tag. */
const resourceTagged = (scope: PolicyScope) => ({ [`aws:ResourceTag/${ENVIRONMENT_TAG}`]: scope.environmentName });

/**
 * The ceiling of every role the workload stacks create: what a task, its image pull and its ECS
 * Exec agent, and the VPC flow log delivery can ever need, on this environment's resources only
 * (its repositories, its stacks' log groups, its own KMS keys). Even a reviewed-in mistake cannot
 * give a workload role more.
 */
export function permissionsBoundaryStatements(scope: PolicyScope): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'EcrAuthorizationToken',
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'], // no resource type (Service Authorization Reference)
    }),
    new iam.PolicyStatement({
      sid: 'PullOwnImages',
      actions: [
        'ecr:BatchCheckLayerAvailability',
        'ecr:GetDownloadUrlForLayer',
        'ecr:BatchGetImage',
        // The first pull through a cache rule creates the repository and imports the image.
        'ecr:BatchImportUpstreamImage',
        'ecr:CreateRepository',
      ],
      resources: scope.imageRepositories.map((repository) => arn(scope, 'ecr', `repository/${repository}`)),
    }),
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      // A log stream's ARN is its group's followed by `:log-stream:<name>`: the pattern covers both.
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: workloadLogGroupArns(scope),
    }),
    new iam.PolicyStatement({
      sid: 'FindLogGroups',
      actions: ['logs:DescribeLogGroups'],
      resources: ['*'], // no resource type: the ECS Exec agent checks its log group exists
    }),
    new iam.PolicyStatement({
      sid: 'EcsExecAgent',
      actions: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
      resources: ['*'], // no resource type
    }),
    new iam.PolicyStatement({
      sid: 'EcsExecEncryptionWithOwnKeys',
      // The cluster's ECS Exec key (executeCommandConfiguration.kmsKeyId), for shell sessions only:
      // Port sessions never use KMS (see nginx-service.ts).
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [arn(scope, 'kms', 'key/*')],
      conditions: { StringEquals: resourceTagged(scope) },
    }),
  ];
}

/** The services whose service-linked roles a deploy may create: ECS, and ECR's pull-through cache. */
const SERVICE_LINKED_ROLE_SERVICES = ['ecs.amazonaws.com', 'pullthroughcache.ecr.amazonaws.com'] as const;

/** The EC2 resource types of the network stacks, each created by one action (for tag-on-create). */
const NETWORK_RESOURCE_TYPES = [
  'vpc',
  'subnet',
  'route-table',
  'security-group',
  'vpc-endpoint',
  'vpc-flow-log',
] as const;
const CREATE_ACTIONS = [
  'ec2:CreateVpc',
  'ec2:CreateSubnet',
  'ec2:CreateRouteTable',
  'ec2:CreateSecurityGroup',
  'ec2:CreateVpcEndpoint',
  'ec2:CreateFlowLogs',
] as const;

/**
 * The CloudFormation execution policy for `cdk bootstrap --cloudformation-execution-policies`,
 * instead of AdministratorAccess: only the services the network and service stacks use, EC2
 * changes only on resources that carry the environment's tag (CloudFormation gives every resource
 * the stack's tags, `environment: <env>` among them), interface endpoints only to Amazon's
 * services, IAM only for roles that carry the permissions boundary (and never a trust change),
 * and nothing that opens a path to the internet (no internet or NAT gateway, no elastic IP, no
 * route, no instance).
 */
export function cloudFormationExecutionStatements(scope: PolicyScope): iam.PolicyStatement[] {
  const boundaryArn = `arn:${scope.partition}:iam::${scope.account}:policy/${scope.boundaryPolicyName}`;
  const workloadRoles = scope.workloadStackNames.map(
    (stack) => `arn:${scope.partition}:iam::${scope.account}:role/${stack}-*`,
  );
  const inRegion = { StringEquals: { 'aws:RequestedRegion': scope.region } };
  const ec2 = (type: string): string => arn(scope, 'ec2', `${type}/*`);
  const networkResources = NETWORK_RESOURCE_TYPES.map(ec2);
  return [
    new iam.PolicyStatement({
      sid: 'ReadTheNetwork',
      // Describe* calls support no resource-level permission and no tag condition (Service
      // Authorization Reference: no resource type): they can only be limited to the region.
      actions: ['ec2:Describe*', 'autoscaling:DescribeTags'], // the flow-log handler reads tags through Auto Scaling too
      resources: ['*'],
      conditions: inRegion,
    }),
    new iam.PolicyStatement({
      sid: 'CreateNetworkResourcesTaggedForThisEnvironment',
      // The new resource's ARN: created only with the environment's tag. The other resources these
      // calls name (the VPC of a subnet, the subnet of a flow log...) must be this environment's:
      // ChangeOwnNetworkResources. Interface endpoints: CreateVpcEndpointsToAmazonServicesOnly.
      actions: CREATE_ACTIONS.filter((action) => action !== 'ec2:CreateVpcEndpoint'),
      resources: [ec2('vpc'), ec2('subnet'), ec2('route-table'), ec2('security-group'), ec2('vpc-flow-log')],
      conditions: { StringEquals: requestTagged(scope) },
    }),
    new iam.PolicyStatement({
      sid: 'CreateVpcEndpointsToAmazonServicesOnly',
      // ec2:VpceServiceOwner is `amazon` for AWS services: no endpoint to a third party's service,
      // which would be a way out of the closed network.
      actions: ['ec2:CreateVpcEndpoint'],
      resources: [ec2('vpc-endpoint')],
      conditions: {
        StringEquals: { ...requestTagged(scope), 'ec2:VpceServiceOwner': 'amazon' },
        StringLike: { 'ec2:VpceServiceName': `com.amazonaws.${scope.region}.*` },
      },
    }),
    new iam.PolicyStatement({
      sid: 'ChangeOwnNetworkResources',
      // Every resource a call names must carry the environment's tag: the VPC a subnet, route
      // table, group or endpoint is created in, the route tables, subnets and groups an endpoint
      // is attached to, and whatever is modified or deleted.
      actions: [
        // The create calls that name an existing resource: the VPC, subnets, route tables, groups.
        ...CREATE_ACTIONS.filter((action) => action !== 'ec2:CreateVpc'),
        'ec2:DeleteVpc',
        'ec2:ModifyVpcAttribute',
        'ec2:DeleteSubnet',
        'ec2:ModifySubnetAttribute',
        'ec2:DeleteRouteTable',
        'ec2:AssociateRouteTable',
        'ec2:DisassociateRouteTable',
        'ec2:ReplaceRouteTableAssociation',
        'ec2:DeleteSecurityGroup',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:UpdateSecurityGroupRuleDescriptionsIngress',
        'ec2:UpdateSecurityGroupRuleDescriptionsEgress',
        'ec2:ModifyVpcEndpoint',
        'ec2:DeleteVpcEndpoints',
        'ec2:DeleteFlowLogs',
      ],
      resources: networkResources,
      conditions: { StringEquals: resourceTagged(scope) },
    }),
    new iam.PolicyStatement({
      sid: 'SecurityGroupRulesOfOwnGroups',
      // A rule's own ARN (an optional resource of Authorize*, where its tags would go): the group
      // it belongs to must be this environment's (ChangeOwnNetworkResources).
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress'],
      resources: [ec2('security-group-rule')],
    }),
    new iam.PolicyStatement({
      sid: 'TagOnCreate',
      // The tags a create call sets are authorized as ec2:CreateTags on the new resource, with
      // ec2:CreateAction naming the call; they must include the environment's tag.
      actions: ['ec2:CreateTags'],
      resources: networkResources,
      conditions: {
        StringEquals: { ...requestTagged(scope), 'ec2:CreateAction': CREATE_ACTIONS.map((a) => a.slice(4)) },
      },
    }),
    new iam.PolicyStatement({
      sid: 'RetagOwnNetworkResources',
      // Only resources that already carry the environment's tag, and never to another environment's
      // value (an untagged resource, or another environment's, stays out of reach).
      actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
      resources: networkResources,
      conditions: {
        StringEquals: resourceTagged(scope),
        StringEqualsIfExists: requestTagged(scope),
      },
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
        // Encrypting an existing group with the stack's key (an update that adds KmsKeyId).
        'logs:AssociateKmsKey',
        'logs:TagResource',
        'logs:UntagResource',
        'logs:TagLogGroup',
        'logs:ListTagsForResource',
        'logs:ListTagsLogGroup',
      ],
      resources: workloadLogGroupArns(scope),
    }),
    new iam.PolicyStatement({
      sid: 'CreateKeysTaggedForThisEnvironment',
      // CreateKey has no resource type. Everything else on a key (its policy, rotation, tags,
      // description) the key's own policy grants to this environment's execution role by name
      // (LogEncryptionKey), so this policy names no existing key: a key of another environment or
      // outside the project stays out of reach, whatever its tags.
      actions: ['kms:CreateKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': scope.region, ...requestTagged(scope) } },
    }),
    new iam.PolicyStatement({
      sid: 'TagKeysOnCreate',
      // CreateKey with tags needs kms:TagResource in an IAM policy (AWS KMS API reference, CreateKey).
      actions: ['kms:TagResource'],
      resources: [arn(scope, 'kms', 'key/*')],
      conditions: { StringEquals: requestTagged(scope) },
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
      // No iam:UpdateAssumeRolePolicy: a deploy cannot change whom a workload role trusts (a
      // trust change is a new role, which must carry the boundary again).
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
