/**
 * Permissions a resource handler lists but calls only for properties this project never sets.
 * AWS's resource schemas publish one list per handler, the union over every property; a handler
 * calls `vpc-lattice:*` only for a service-network endpoint, `s3:PutBucketPolicy` only for flow
 * logs to S3, and so on. Requiring the whole union would force the execution policy to grant what
 * no deploy of these templates uses, so each exemption here names the property whose absence (or
 * value) makes the permission unused, with the AWS documentation that says so. An exemption only
 * applies while its condition holds for the resource being checked: set the property and the
 * permission is required again.
 */
export interface HandlerExemption {
  readonly type: string;
  readonly permissions: readonly string[];
  /** True when the permissions are NOT needed for these (resolved) properties. */
  readonly applies: (properties: Readonly<Record<string, unknown>>) => boolean;
  readonly reason: string;
}

const absent =
  (...names: string[]) =>
  (properties: Readonly<Record<string, unknown>>): boolean =>
    names.every((name) => properties[name] === undefined);

export const HANDLER_EXEMPTIONS: readonly HandlerExemption[] = [
  {
    type: 'AWS::EC2::VPC',
    permissions: ['ec2:ModifyVpcTenancy'],
    applies: (properties) => properties.InstanceTenancy === undefined || properties.InstanceTenancy === 'default',
    reason:
      'Only changes InstanceTenancy (EC2 API reference, ModifyVpcTenancy); the VPC keeps the default tenancy, and a tenancy change would need this again.',
  },
  {
    type: 'AWS::EC2::VPC',
    permissions: ['ec2:CreateVpcEncryptionControl'],
    applies: absent('VpcEncryptionControl', 'EncryptionControl'),
    reason: 'Only for VPC encryption controls (EC2 API reference, CreateVpcEncryptionControl); none is configured.',
  },
  {
    type: 'AWS::EC2::Subnet',
    permissions: ['ec2:AssociateSubnetCidrBlock', 'ec2:DisassociateSubnetCidrBlock'],
    applies: absent('Ipv6CidrBlock', 'Ipv6CidrBlocks', 'Ipv6IpamPoolId', 'Ipv6Native'),
    reason: 'Only associate IPv6 blocks (EC2 API reference, AssociateSubnetCidrBlock); the subnets are IPv4 only.',
  },
  {
    type: 'AWS::EC2::VPCEndpoint',
    permissions: [
      'vpc-lattice:CreateServiceNetworkVpcEndpointAssociation',
      'vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation',
    ],
    applies: (properties) =>
      properties.ServiceNetworkArn === undefined &&
      properties.ResourceConfigurationArn === undefined &&
      !['ServiceNetwork', 'Resource'].includes(String(properties.VpcEndpointType)),
    reason:
      'Only for endpoints of type ServiceNetwork or Resource (VPC Lattice; AWS PrivateLink guide, "Access VPC resources"); these are Interface and Gateway endpoints.',
  },
  {
    type: 'AWS::EC2::VPCEndpoint',
    permissions: ['vpce:AllowMultiRegion'],
    applies: absent('ServiceRegion'),
    reason:
      'Only for a cross-Region endpoint, one with ServiceRegion (AWS PrivateLink guide, "Cross-Region connectivity"); every endpoint here is to its own Region.',
  },
  {
    type: 'AWS::EC2::FlowLog',
    permissions: ['s3:GetBucketPolicy', 's3:PutBucketPolicy'],
    applies: (properties) => properties.LogDestinationType !== 's3',
    reason:
      'Only for flow logs published to S3 (VPC User Guide, "Publish flow logs to Amazon S3"); these go to CloudWatch Logs.',
  },
  {
    type: 'AWS::EC2::FlowLog',
    permissions: ['logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'iam:CreateServiceLinkedRole'],
    applies: (properties) => !['s3', 'kinesis-data-firehose'].includes(String(properties.LogDestinationType)),
    reason:
      'Log deliveries and their service-linked role are for flow logs to S3 or Firehose (VPC User Guide, "Flow log IAM roles"); to CloudWatch Logs, flow logs use the DeliverLogsPermissionArn role.',
  },
  {
    type: 'AWS::Logs::LogGroup',
    permissions: ['logs:GetDataProtectionPolicy', 'logs:PutDataProtectionPolicy', 'logs:DeleteDataProtectionPolicy'],
    applies: absent('DataProtectionPolicy'),
    reason:
      'Only for a DataProtectionPolicy (CloudWatch Logs, "Help protect sensitive log data with masking"); none is set.',
  },
  {
    type: 'AWS::Logs::LogGroup',
    permissions: [
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DeleteResourcePolicy',
      'logs:CreateLogDelivery',
      's3:REST.PUT.OBJECT',
      'firehose:TagDeliveryStream',
    ],
    applies: absent('ResourcePolicyDocument'),
    reason:
      'Only for a log group resource policy and the vended-log deliveries it enables (CloudWatch Logs, "Enabling logging from AWS services"); no resource policy is set.',
  },
  {
    type: 'AWS::Logs::LogGroup',
    permissions: ['logs:PutIndexPolicy', 'logs:DescribeIndexPolicies', 'logs:DeleteIndexPolicy'],
    applies: absent('FieldIndexPolicies'),
    reason: 'Only for FieldIndexPolicies (CloudWatch Logs, "Create field indexes"); none is set.',
  },
  {
    type: 'AWS::Logs::LogGroup',
    permissions: ['logs:PutBearerTokenAuthentication'],
    applies: absent('BearerTokenAuthenticationEnabled'),
    reason: 'Only for BearerTokenAuthenticationEnabled; not set.',
  },
  {
    type: 'AWS::Logs::LogGroup',
    permissions: ['logs:AssociateKmsKey', 'logs:DisassociateKmsKey'],
    applies: absent('KmsKeyId'),
    reason: 'Only associate a KMS key given as KmsKeyId (CloudWatch Logs API, AssociateKmsKey).',
  },
  {
    type: 'AWS::Logs::LogGroup',
    permissions: ['logs:DisassociateKmsKey'],
    applies: (properties) => properties.KmsKeyId !== undefined,
    reason:
      'Only removes the KMS key when an update drops KmsKeyId (CloudWatch Logs API, DisassociateKmsKey); every log group here keeps its key, and the execution policy does not allow taking it off (such an update would fail at deploy).',
  },
  {
    type: 'AWS::KMS::Key',
    permissions: ['kms:DisableKey'],
    applies: (properties) => properties.Enabled === undefined || properties.Enabled === true,
    reason:
      'Only for a key with Enabled: false (AWS KMS API reference, DisableKey); these keys stay enabled (a log group whose key is disabled can no longer be written).',
  },
  {
    type: 'AWS::KMS::Key',
    permissions: ['kms:DisableKeyRotation'],
    applies: (properties) => properties.EnableKeyRotation === true,
    reason:
      'Only when an update turns EnableKeyRotation off (AWS KMS API reference, DisableKeyRotation); these keys rotate, and turning it off would fail at deploy.',
  },
  {
    type: 'AWS::Logs::LogGroup',
    permissions: ['logs:PutLogGroupDeletionProtection'],
    applies: absent('DeletionProtectionEnabled'),
    reason: 'Only for DeletionProtectionEnabled; not set.',
  },
  {
    type: 'AWS::ECS::Cluster',
    permissions: ['kms:DescribeKey'],
    applies: (properties) => !JSON.stringify(properties.Configuration ?? {}).includes('KmsKey'),
    reason: "Only checks a KMS key named in the cluster's Configuration (ECS Exec or managed storage encryption).",
  },
  {
    type: 'AWS::ECS::Service',
    permissions: ['iam:PassRole'],
    applies: absent('Role'),
    reason:
      'Only passes the service role given as Role (ECS developer guide, "Service-linked role for Amazon ECS"); with awsvpc the service uses the service-linked role.',
  },
  {
    type: 'AWS::ECR::PullThroughCacheRule',
    permissions: ['secretsmanager:GetSecretValue'],
    applies: absent('CredentialArn'),
    reason:
      'Only reads the upstream credentials of CredentialArn (ECR guide, "Pull through cache rules"); ECR Public needs none.',
  },
  {
    type: 'AWS::ECR::PullThroughCacheRule',
    permissions: ['iam:PassRole'],
    applies: absent('CustomRoleArn'),
    reason: 'Only passes CustomRoleArn (for ECR-to-ECR caching); not set.',
  },
  {
    type: 'AWS::IAM::Role',
    permissions: ['iam:DeleteRolePermissionsBoundary'],
    applies: (properties) => properties.PermissionsBoundary !== undefined,
    reason:
      'Only removes a permissions boundary when an update drops the PermissionsBoundary property; every workload role keeps it (and the execution boundary forbids removing it).',
  },
  {
    type: 'AWS::IAM::Role',
    permissions: ['iam:UpdateAssumeRolePolicy'],
    applies: () => true,
    reason:
      "Only when an update changes a role's AssumeRolePolicyDocument. The execution policy withholds it on purpose, so that a deploy cannot change whom a workload role trusts: such an update FAILS at deploy (UPDATE_FAILED, rolled back). Change a trust by replacing the role (a new construct id, which creates a new role under the boundary), or through an administrator.",
  },
  {
    type: 'AWS::IAM::Policy',
    permissions: [
      'iam:GetUserPolicy',
      'iam:PutUserPolicy',
      'iam:DeleteUserPolicy',
      'iam:GetGroupPolicy',
      'iam:PutGroupPolicy',
      'iam:DeleteGroupPolicy',
    ],
    applies: absent('Users', 'Groups'),
    reason: 'Only for policies attached to Users or Groups; these attach to roles only.',
  },
  {
    type: 'AWS::IAM::ManagedPolicy',
    permissions: ['iam:AttachGroupPolicy', 'iam:DetachGroupPolicy', 'iam:AttachUserPolicy', 'iam:DetachUserPolicy'],
    applies: absent('Users', 'Groups'),
    reason: 'Only for policies attached to Users or Groups.',
  },
];

/** The exemption that makes a permission unused for a resource, if any. */
export function exemptionFor(
  type: string,
  permission: string,
  properties: Readonly<Record<string, unknown>>,
): HandlerExemption | undefined {
  return HANDLER_EXEMPTIONS.find(
    (exemption) =>
      exemption.type === type && exemption.permissions.includes(permission) && exemption.applies(properties),
  );
}
