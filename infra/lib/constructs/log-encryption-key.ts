import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface LogEncryptionKeyProps {
  readonly description: string;
  /**
   * Names (or name patterns, e.g. `<stack>-*`) of the log groups CloudWatch Logs may use the key
   * for; any other log group, of this account or another, is refused.
   */
  readonly logGroupNames: readonly string[];
  /**
   * The role CloudFormation deploys the stack as (the environment's bootstrap execution role): the
   * key policy lets it manage the key, so that its identity policy needs no right on any key.
   */
  readonly deployerRoleArn: string;
}

/**
 * What CloudFormation's key handler does to a key after creating it (AWS's resource schema of
 * AWS::KMS::Key, less DisableKey, DisableKeyRotation and ScheduleKeyDeletion, which these
 * templates never need: the key stays enabled and rotated, and is retained).
 */
export const KEY_DEPLOYER_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
] as const;

/**
 * A customer managed key of the environment for its log groups (and ECS Exec sessions), kept when
 * the stack is deleted (what it encrypted stays readable) and rotated every year. Its policy:
 * the account (CDK's default: IAM policies of the account decide, for administrators), the
 * deploying execution role for the key's own upkeep, and CloudWatch Logs of this region for the
 * named log groups only (`kms:EncryptionContext:aws:logs:arn`, CloudWatch Logs User Guide,
 * "Encrypt log data in CloudWatch Logs using AWS Key Management Service").
 */
export class LogEncryptionKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: LogEncryptionKeyProps) {
    super(scope, id);
    const { account, region, partition } = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DeployerMaintainsTheKey',
        principals: [new iam.ArnPrincipal(props.deployerRoleArn)],
        actions: [...KEY_DEPLOYER_ACTIONS],
        resources: ['*'],
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfTheseLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': props.logGroupNames.map(
              (name) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`,
            ),
          },
        },
      }),
    );
  }
}
