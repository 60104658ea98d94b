import {
  HANDLER_PERMISSIONS_RETRIEVED,
  HANDLER_PERMISSIONS_TYPES,
  handlerPermissions,
  handlerPermissionsSource,
  type HandlerName,
} from './helpers/iam/handler-permissions.js';

const DEPLOYED_TYPES = [
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::VPCEndpoint',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::FlowLog',
  'AWS::ECS::Cluster',
  'AWS::ECS::ClusterCapacityProviderAssociations',
  'AWS::ECS::TaskDefinition',
  'AWS::ECS::Service',
  'AWS::ECR::PullThroughCacheRule',
  'AWS::ECR::Repository',
  'AWS::ECR::RepositoryCreationTemplate',
  'AWS::Logs::LogGroup',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::OIDCProvider',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::SSM::Parameter',
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
];

const HANDLERS: readonly HandlerName[] = ['create', 'read', 'update', 'delete', 'list'];
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9*]+$/;

/**
 * Strings AWS's own schemas carry that are not well-formed IAM actions. The data keeps them verbatim
 * (it is a copy of the schema); they are listed here so that any new oddity fails the test.
 */
const KNOWN_SCHEMA_QUIRKS = new Set([
  'AWS::Logs::LogGroup create s3:REST.PUT.OBJECT', // an S3 REST operation name, not an IAM action
  'AWS::Logs::LogGroup update s3:REST.PUT.OBJECT',
  'AWS::S3::Bucket read S3:GetBucketWebsite', // upper-case service prefix (IAM matches it case-insensitively)
]);

describe('CloudFormation handler permissions data', () => {
  it('records every resource type the stacks deploy, each pinned to a schema at a commit', () => {
    for (const type of DEPLOYED_TYPES) {
      expect(HANDLER_PERMISSIONS_TYPES).toContain(type);
      expect(handlerPermissionsSource(type)).toMatch(
        /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/[0-9a-f]{40}\/\S+\.json$/,
      );
    }
  });

  it('records when the schemas were read', () => {
    expect(HANDLER_PERMISSIONS_RETRIEVED).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('has create and delete permissions for every recorded type', () => {
    for (const type of HANDLER_PERMISSIONS_TYPES) {
      expect(handlerPermissions(type, 'create').length).toBeGreaterThan(0);
      expect(handlerPermissions(type, 'delete').length).toBeGreaterThan(0);
    }
  });

  it('holds known facts from the schemas', () => {
    expect(handlerPermissions('AWS::IAM::OIDCProvider', 'create')).toContain('iam:CreateOpenIDConnectProvider');
    expect(handlerPermissions('AWS::IAM::ManagedPolicy', 'create')).toContain('iam:CreatePolicy');
    expect(handlerPermissions('AWS::EC2::VPC', 'create')).toContain('ec2:CreateVpc');
    expect(handlerPermissions('AWS::EC2::VPC', 'delete')).toContain('ec2:DeleteVpc');
    expect(handlerPermissions('AWS::IAM::Role', 'create')).toContain('iam:CreateRole');
    expect(handlerPermissions('AWS::KMS::Key', 'create')).toContain('kms:CreateKey');
    expect(handlerPermissions('AWS::S3::Bucket', 'create')).toContain('s3:CreateBucket');
    expect(handlerPermissions('AWS::ECS::Service', 'create')).toContain('ecs:CreateService');
    expect(handlerPermissions('AWS::Logs::LogGroup', 'create')).toContain('logs:CreateLogGroup');
    expect(handlerPermissions('AWS::IAM::Policy', 'create')).toContain('iam:PutRolePolicy');
  });

  it('returns [] for a handler the schema does not declare', () => {
    // AWS::IAM::Policy's schema has create, update and delete handlers only.
    expect(handlerPermissions('AWS::IAM::Policy', 'read')).toEqual([]);
    expect(handlerPermissions('AWS::IAM::Policy', 'list')).toEqual([]);
  });

  it('holds only well-formed IAM actions, apart from the known schema quirks', () => {
    const seenQuirks = new Set<string>();
    for (const type of HANDLER_PERMISSIONS_TYPES) {
      for (const handler of HANDLERS) {
        for (const action of handlerPermissions(type, handler)) {
          const key = `${type} ${handler} ${action}`;
          if (KNOWN_SCHEMA_QUIRKS.has(key)) {
            seenQuirks.add(key);
            continue;
          }
          expect({ type, handler, action, wellFormed: ACTION.test(action) }).toEqual({
            type,
            handler,
            action,
            wellFormed: true,
          });
        }
      }
    }
    // A quirk AWS has fixed upstream (after a refresh of the data) should leave this list too.
    expect([...seenQuirks].sort()).toEqual([...KNOWN_SCHEMA_QUIRKS].sort());
  });

  it('throws a helpful error for a type it does not record', () => {
    expect(() => handlerPermissions('AWS::Lambda::Function', 'create')).toThrow(
      /AWS::Lambda::Function.*add it to test\/helpers\/iam\/data\/cloudformation-handler-permissions\.json.*schema/s,
    );
    expect(() => handlerPermissionsSource('AWS::Nope::Nope')).toThrow(/AWS::Nope::Nope/);
    // Inherited object keys are not resource types.
    expect(() => handlerPermissions('constructor', 'create')).toThrow(/constructor/);
  });
});
