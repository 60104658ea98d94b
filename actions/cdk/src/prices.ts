/**
 * The price table behind the diff comment's cost estimate: list prices (USD, on-demand, Linux) of
 * what this project's templates create, for the region the environments use. Update `date` with
 * the numbers. Resource types not listed here are shown as "not priced".
 */
export const PRICE_TABLE = {
  date: '2026-11-28',
  source: 'AWS Pricing Calculator and the public price pages (VPC, Fargate, KMS, CloudWatch), ap-northeast-1',
  region: 'ap-northeast-1',
  currency: 'USD',
  hoursPerMonth: 730,
  /** Interface VPC endpoint, per endpoint per AZ-hour (plus 0.01/GB processed, not estimated). */
  interfaceEndpointHour: 0.014,
  /** Fargate Linux x86_64, per vCPU-hour and per GB-hour. */
  fargateX86VcpuHour: 0.05056,
  fargateX86GbHour: 0.00553,
  /** Fargate Linux ARM64 (Graviton): about 20% less than x86_64. */
  fargateArmVcpuHour: 0.04045,
  fargateArmGbHour: 0.00442,
  /** Fargate Spot: "up to 70% off"; the estimate takes the full discount. */
  fargateSpotFactor: 0.3,
  /**
   * Customer managed KMS key, per key-month (AWS KMS pricing page: $1/month prorated hourly; each of
   * the first two automatic rotations adds $1/month, from the second year; requests are billed by use).
   */
  kmsKeyMonth: 1,
  /** NAT gateway per hour (plus 0.062/GB, not estimated). */
  natGatewayHour: 0.062,
} as const;

/** Types billed by usage only (ingestion, storage, requests): no fixed monthly figure. */
export const USAGE_BASED_TYPES: ReadonlySet<string> = new Set([
  'AWS::Logs::LogGroup',
  'AWS::EC2::FlowLog',
  'AWS::ECR::PullThroughCacheRule',
]);

/** Types that cost nothing by themselves (their cost, if any, is in another resource). */
export const FREE_TYPES: ReadonlySet<string> = new Set([
  'AWS::CDK::Metadata',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::Route',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::OIDCProvider',
  'AWS::ECS::Cluster',
  // Billed through the service that runs it.
  'AWS::ECS::TaskDefinition',
  'AWS::SSM::Parameter',
]);
