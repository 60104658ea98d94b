/**
 * What IAM authorizes for each API operation the project's roles call: the action, the resource
 * ARN(s) the Service Authorization Reference says the action is authorized on, and the
 * operation-specific condition keys. Only the operations the project's flows make are modelled;
 * any other call by a non-administrator is refused with UnmodelledOperation, so a new call shows
 * up as a failing test instead of being waved through.
 */
import { queryList, queryStructList, type AwsCall } from './aws-call.js';

/** One authorization IAM performs for a call. */
export interface RequiredPermission {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export interface CallScope {
  readonly account: string;
  readonly partition: string;
}

export class UnmodelledOperation extends Error {
  constructor(call: AwsCall) {
    super(
      `${call.service}:${call.operation} is not modelled in test/helpers/iam/operations.ts: add which action and ` +
        "resource IAM authorizes it on (AWS's Service Authorization Reference), so the gate can evaluate it.",
    );
    this.name = 'UnmodelledOperation';
  }
}

type Resolver = (call: AwsCall, scope: CallScope) => RequiredPermission[];

const arnOf = (call: AwsCall, scope: CallScope, service: string, resource: string, region = call.region): string =>
  `arn:${scope.partition}:${service}:${region}:${scope.account}:${resource}`;

/** A stack ARN from a name or ARN; the stack id part is unknown to the caller, so any id stands. */
function stackArn(call: AwsCall, scope: CallScope, nameOrArn: unknown): string {
  const value = String(nameOrArn ?? '');
  if (value.startsWith('arn:')) return value;
  return arnOf(call, scope, 'cloudformation', `stack/${value}/00000000-0000-0000-0000-000000000000`);
}

const param = (call: AwsCall, name: string): unknown => call.params[name];

/** CloudFormation operations on one stack named by StackName. */
const onStack =
  (action: string): Resolver =>
  (call, scope) => [{ action, resource: stackArn(call, scope, param(call, 'StackName')) }];

/** CloudFormation operations that name a stack or nothing (then IAM authorizes them on `*`). */
const onStackOrAll =
  (action: string): Resolver =>
  (call, scope) => [
    { action, resource: param(call, 'StackName') ? stackArn(call, scope, param(call, 'StackName')) : '*' },
  ];

/** CreateStack, UpdateStack, CreateChangeSet: the stack, and passing the execution role to CloudFormation. */
const deployStack =
  (action: string): Resolver =>
  (call, scope) => {
    const role = param(call, 'RoleARN');
    const context: Record<string, string> = {};
    if (typeof role === 'string') context['cloudformation:RoleArn'] = role;
    const tags = queryStructList(call.params, 'Tags');
    const tagContext: Record<string, string | string[]> = {};
    if (tags.length > 0) {
      tagContext['aws:TagKeys'] = tags.map((tag) => tag.Key ?? '');
      for (const tag of tags) tagContext[`aws:RequestTag/${tag.Key}`] = tag.Value ?? '';
    }
    const permissions: RequiredPermission[] = [
      { action, resource: stackArn(call, scope, param(call, 'StackName')), context: { ...context, ...tagContext } },
    ];
    if (typeof role === 'string') {
      permissions.push({
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': 'cloudformation.amazonaws.com' },
      });
    }
    return permissions;
  };

/** An ECS resource ARN from an ARN or a bare id/name within the request's cluster. */
function ecsArn(call: AwsCall, scope: CallScope, kind: 'task' | 'service', value: string): string {
  if (value.startsWith('arn:')) return value;
  const cluster = clusterName(param(call, 'cluster'));
  return arnOf(call, scope, 'ecs', `${kind}/${cluster}/${value}`);
}

function clusterName(value: unknown): string {
  const text = String(value ?? 'default');
  return text.startsWith('arn:') ? (text.split('/').pop() ?? text) : text;
}

function clusterArn(call: AwsCall, scope: CallScope, value: unknown): string {
  const text = String(value ?? 'default');
  return text.startsWith('arn:') ? text : arnOf(call, scope, 'ecs', `cluster/${text}`);
}

function parameterArn(call: AwsCall, scope: CallScope, name: string): string {
  return name.startsWith('arn:') ? name : arnOf(call, scope, 'ssm', `parameter/${name.replace(/^\//, '')}`);
}

/** SSM's target `ecs:<cluster>_<task id>_<runtime id>` as the ECS task it is. */
function ssmTargetArn(call: AwsCall, scope: CallScope, target: string): string {
  const match = /^ecs:([^_]+)_([^_]+)_/.exec(target);
  if (match) return arnOf(call, scope, 'ecs', `task/${match[1]}/${match[2]}`);
  if (target.startsWith('i-')) return arnOf(call, scope, 'ec2', `instance/${target}`);
  return arnOf(call, scope, 'ssm', `managed-instance/${target}`);
}

const iamArn = (scope: CallScope, resource: string): string =>
  `arn:${scope.partition}:iam::${scope.account}:${resource}`;
const s3Arn = (scope: CallScope, bucket: string, key?: string): string =>
  `arn:${scope.partition}:s3:::${bucket}${key !== undefined ? `/${key}` : ''}`;

const OPERATIONS: Readonly<Record<string, Resolver>> = {
  // STS: GetCallerIdentity needs no permission (STS API reference); AssumeRole is on the role.
  'sts:GetCallerIdentity': () => [],
  'sts:AssumeRole': (call) => {
    const permissions: RequiredPermission[] = [{ action: 'sts:AssumeRole', resource: String(param(call, 'RoleArn')) }];
    if (queryStructList(call.params, 'Tags').length > 0 || queryList(call.params, 'TransitiveTagKeys').length > 0)
      permissions.push({ action: 'sts:TagSession', resource: String(param(call, 'RoleArn')) });
    return permissions;
  },

  // CloudFormation
  'cloudformation:DescribeStacks': onStackOrAll('cloudformation:DescribeStacks'),
  'cloudformation:GetTemplate': onStack('cloudformation:GetTemplate'),
  'cloudformation:GetTemplateSummary': onStackOrAll('cloudformation:GetTemplateSummary'),
  'cloudformation:ListStackResources': onStack('cloudformation:ListStackResources'),
  'cloudformation:DescribeStackResources': onStack('cloudformation:DescribeStackResources'),
  'cloudformation:DescribeStackResource': onStack('cloudformation:DescribeStackResource'),
  'cloudformation:DescribeStackEvents': onStack('cloudformation:DescribeStackEvents'),
  'cloudformation:DeleteStack': onStack('cloudformation:DeleteStack'),
  'cloudformation:CreateStack': deployStack('cloudformation:CreateStack'),
  'cloudformation:UpdateStack': deployStack('cloudformation:UpdateStack'),
  'cloudformation:CreateChangeSet': deployStack('cloudformation:CreateChangeSet'),
  'cloudformation:DescribeChangeSet': onStack('cloudformation:DescribeChangeSet'),
  'cloudformation:ExecuteChangeSet': onStack('cloudformation:ExecuteChangeSet'),
  'cloudformation:DeleteChangeSet': onStack('cloudformation:DeleteChangeSet'),
  'cloudformation:ListChangeSets': onStack('cloudformation:ListChangeSets'),
  'cloudformation:DetectStackDrift': onStack('cloudformation:DetectStackDrift'),
  'cloudformation:DescribeStackResourceDrifts': onStack('cloudformation:DescribeStackResourceDrifts'),
  'cloudformation:DescribeStackDriftDetectionStatus': () => [
    { action: 'cloudformation:DescribeStackDriftDetectionStatus', resource: '*' },
  ],
  'cloudformation:ValidateTemplate': () => [{ action: 'cloudformation:ValidateTemplate', resource: '*' }],
  'cloudformation:ListStacks': () => [{ action: 'cloudformation:ListStacks', resource: '*' }],
  'cloudformation:ListExports': () => [{ action: 'cloudformation:ListExports', resource: '*' }],

  // SSM: parameters, and Session Manager (served by the emulator)
  'ssm:GetParameter': (call, scope) => [
    { action: 'ssm:GetParameter', resource: parameterArn(call, scope, String(param(call, 'Name'))) },
  ],
  'ssm:GetParameters': (call, scope) =>
    ((param(call, 'Names') as string[] | undefined) ?? []).map((name) => ({
      action: 'ssm:GetParameters',
      resource: parameterArn(call, scope, name),
    })),
  'ssm:StartSession': (call, scope) => {
    const document = String(param(call, 'DocumentName') ?? 'SSM-SessionManagerRunShell');
    const documentArn = document.startsWith('AWS-')
      ? `arn:${scope.partition}:ssm:${call.region}::document/${document}`
      : arnOf(call, scope, 'ssm', `document/${document}`);
    return [
      { action: 'ssm:StartSession', resource: ssmTargetArn(call, scope, String(param(call, 'Target'))) },
      { action: 'ssm:StartSession', resource: documentArn },
    ];
  },
  'ssm:TerminateSession': (call, scope) => [
    {
      action: 'ssm:TerminateSession',
      resource: arnOf(call, scope, 'ssm', `session/${String(param(call, 'SessionId'))}`),
    },
  ],
  'ssm:ResumeSession': (call, scope) => [
    { action: 'ssm:ResumeSession', resource: arnOf(call, scope, 'ssm', `session/${String(param(call, 'SessionId'))}`) },
  ],
  'ssm:DescribeSessions': () => [{ action: 'ssm:DescribeSessions', resource: '*' }],

  // ECR: the deploy's image preflight (actions/cdk image-cache-check.ts); DescribeImages is
  // authorized on the repository (Service Authorization Reference, Amazon ECR, read 2026-12-02)
  'ecr:DescribeImages': (call, scope) => [
    {
      action: 'ecr:DescribeImages',
      resource: arnOf(call, scope, 'ecr', `repository/${String(param(call, 'repositoryName'))}`),
    },
  ],

  // ECS (the runtime view is served by the emulator)
  'ecs:ListTasks': (call, scope) => [
    {
      action: 'ecs:ListTasks',
      // ListTasks is authorized on container instances (SAR); with none named, on `*`, with ecs:cluster.
      resource: '*',
      context: { 'ecs:cluster': clusterArn(call, scope, param(call, 'cluster')) },
    },
  ],
  'ecs:DescribeTasks': (call, scope) =>
    ((param(call, 'tasks') as string[] | undefined) ?? []).map((task) => ({
      action: 'ecs:DescribeTasks',
      resource: ecsArn(call, scope, 'task', task),
      context: { 'ecs:cluster': clusterArn(call, scope, param(call, 'cluster')) },
    })),
  'ecs:DescribeServices': (call, scope) =>
    ((param(call, 'services') as string[] | undefined) ?? []).map((service) => ({
      action: 'ecs:DescribeServices',
      resource: ecsArn(call, scope, 'service', service),
      context: { 'ecs:cluster': clusterArn(call, scope, param(call, 'cluster')) },
    })),
  'ecs:DescribeClusters': (call, scope) =>
    ((param(call, 'clusters') as string[] | undefined) ?? ['default']).map((cluster) => ({
      action: 'ecs:DescribeClusters',
      resource: clusterArn(call, scope, cluster),
    })),
  // No resource type in the SAR.
  'ecs:DescribeTaskDefinition': () => [{ action: 'ecs:DescribeTaskDefinition', resource: '*' }],

  // EC2 reads: Describe* actions have no resource type.
  'ec2:DescribeSubnets': () => [{ action: 'ec2:DescribeSubnets', resource: '*' }],
  'ec2:DescribeVpcAttribute': () => [{ action: 'ec2:DescribeVpcAttribute', resource: '*' }],
  'ec2:DescribeVpcEndpoints': () => [{ action: 'ec2:DescribeVpcEndpoints', resource: '*' }],
  'ec2:DescribeSecurityGroups': () => [{ action: 'ec2:DescribeSecurityGroups', resource: '*' }],
  'ec2:DescribeVpcs': () => [{ action: 'ec2:DescribeVpcs', resource: '*' }],

  // IAM reads
  'iam:GetRole': (call, scope) => [
    { action: 'iam:GetRole', resource: iamArn(scope, `role/${String(param(call, 'RoleName'))}`) },
  ],
  'iam:ListRolePolicies': (call, scope) => [
    { action: 'iam:ListRolePolicies', resource: iamArn(scope, `role/${String(param(call, 'RoleName'))}`) },
  ],
  'iam:GetRolePolicy': (call, scope) => [
    { action: 'iam:GetRolePolicy', resource: iamArn(scope, `role/${String(param(call, 'RoleName'))}`) },
  ],
  'iam:ListAttachedRolePolicies': (call, scope) => [
    { action: 'iam:ListAttachedRolePolicies', resource: iamArn(scope, `role/${String(param(call, 'RoleName'))}`) },
  ],
  'iam:GetPolicy': (call) => [{ action: 'iam:GetPolicy', resource: String(param(call, 'PolicyArn')) }],
  'iam:GetPolicyVersion': (call) => [{ action: 'iam:GetPolicyVersion', resource: String(param(call, 'PolicyArn')) }],
  'iam:SimulatePrincipalPolicy': (call) => [
    { action: 'iam:SimulatePrincipalPolicy', resource: String(param(call, 'PolicySourceArn')) },
  ],

  // CloudWatch Logs reads: DescribeLogGroups has no resource type.
  'logs:DescribeLogGroups': () => [{ action: 'logs:DescribeLogGroups', resource: '*' }],

  // S3 (CDK file assets: the staging bucket)
  's3:PutObject': (call, scope) => [
    { action: 's3:PutObject', resource: s3Arn(scope, String(param(call, 'Bucket')), String(param(call, 'Key'))) },
  ],
  's3:GetObject': (call, scope) => [
    { action: 's3:GetObject', resource: s3Arn(scope, String(param(call, 'Bucket')), String(param(call, 'Key'))) },
  ],
  // HeadObject is authorized as GetObject (S3 API reference, HeadObject).
  's3:HeadObject': (call, scope) => [
    { action: 's3:GetObject', resource: s3Arn(scope, String(param(call, 'Bucket')), String(param(call, 'Key'))) },
  ],
  // ListObjectsV2 and HeadBucket are authorized as ListBucket on the bucket.
  's3:ListObjectsV2': (call, scope) => [
    { action: 's3:ListBucket', resource: s3Arn(scope, String(param(call, 'Bucket'))) },
  ],
  's3:HeadBucket': (call, scope) => [
    { action: 's3:ListBucket', resource: s3Arn(scope, String(param(call, 'Bucket'))) },
  ],
  // GetBucketEncryption is authorized as GetEncryptionConfiguration (S3 API reference).
  's3:GetBucketEncryption': (call, scope) => [
    { action: 's3:GetEncryptionConfiguration', resource: s3Arn(scope, String(param(call, 'Bucket'))) },
  ],
  's3:GetBucketLocation': (call, scope) => [
    { action: 's3:GetBucketLocation', resource: s3Arn(scope, String(param(call, 'Bucket'))) },
  ],
};

/** The authorizations IAM performs for a call, or UnmodelledOperation. */
export function requiredPermissions(call: AwsCall, scope: CallScope): RequiredPermission[] {
  const resolver = OPERATIONS[`${call.service}:${call.operation}`];
  if (!resolver) throw new UnmodelledOperation(call);
  return resolver(call, scope);
}

/** Every modelled operation, for the test that checks each against the Service Authorization Reference. */
export const MODELLED_OPERATIONS: readonly string[] = Object.keys(OPERATIONS);
