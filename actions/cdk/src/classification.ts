/**
 * What the diff comment calls destructive. A removal, replacement (certain or possible) or orphaning
 * of a resource is destructive when the resource is stateful or shared: losing or swapping it loses
 * data, cuts off what depends on it, or breaks what names it from outside the stack. It is routine
 * when the platform replaces it safely (a task definition is a new revision, rolled out behind the
 * deployment circuit breaker) or when it is only a grant or rule that the Security section shows.
 *
 * docs/security.md ("What the diff comment calls destructive") shows this table, and a test checks
 * that the page and this table are the same: change both together.
 */

/** How a removal or replacement of a resource type is shown: it blocks the merge, or it does not. */
export type RemovalClass = 'destructive' | 'routine';

export interface TypeClassification {
  readonly class: RemovalClass;
  /** One line for the reviewer: why losing or replacing this type is (or is not) a loss. */
  readonly reason: string;
}

const destructive = (reason: string): TypeClassification => ({ class: 'destructive', reason });
const routine = (reason: string): TypeClassification => ({ class: 'routine', reason });

/** Resource type → the class of its removal or replacement, for the types this app deploys. */
export const REMOVAL_CLASSIFICATION: Readonly<Record<string, TypeClassification>> = {
  'AWS::EC2::VPC': destructive(
    'Everything in the network lives in it (subnets, endpoints, the tasks’ interfaces): a new VPC is a new network.',
  ),
  'AWS::EC2::Subnet': destructive(
    'The tasks and the interface endpoints have their network interfaces in it: replacing it moves them all.',
  ),
  'AWS::EC2::RouteTable': destructive(
    'It carries the subnets’ routes, the S3 gateway endpoint’s among them: traffic stops until a new table is associated.',
  ),
  'AWS::EC2::SubnetRouteTableAssociation': destructive(
    'Without it the subnet falls back to the VPC’s main route table and loses its routes (the S3 gateway endpoint).',
  ),
  'AWS::EC2::SecurityGroup': destructive(
    'Shared by the interfaces that use it and named by id in other groups’ rules: a new group drops those references.',
  ),
  'AWS::EC2::SecurityGroupIngress': routine(
    'One rule, shown in the Security section: removing it narrows access, a replacement re-creates it.',
  ),
  'AWS::EC2::SecurityGroupEgress': routine(
    'One rule, shown in the Security section: removing it narrows access, a replacement re-creates it.',
  ),
  'AWS::EC2::VPCEndpoint': destructive(
    'The closed network reaches AWS services only through its endpoints: without one, what uses it (image pulls, logs, sessions) stops.',
  ),
  'AWS::EC2::FlowLog': routine(
    'Only the subscription: the records stay in the log group; a replacement pauses the recording for moments.',
  ),
  'AWS::Logs::LogGroup': destructive(
    'It holds data (access, flow and session audit logs), deleted with the group unless the group is retained.',
  ),
  'AWS::KMS::Key': destructive('Whatever it encrypted cannot be read once it is deleted (after the pending window).'),
  'AWS::KMS::Alias': routine('A name for a key: the key and what it encrypts stay.'),
  'AWS::ECS::Cluster': destructive(
    'The service and its tasks run in it, and the operator and developer rights name it: without it the application stops.',
  ),
  'AWS::ECS::ClusterCapacityProviderAssociations': destructive(
    'It gives the cluster its capacity providers (Fargate Spot): without it the service’s strategy names a provider the cluster lacks and no task starts.',
  ),
  'AWS::ECS::Service': destructive(
    'Removing or replacing it stops the running tasks: the application is unavailable until new ones are healthy.',
  ),
  'AWS::ECS::TaskDefinition': routine(
    'Immutable: a change is a new revision; ECS starts tasks on it beside the running ones and rolls back if they fail (deployment circuit breaker).',
  ),
  'AWS::ECR::PullThroughCacheRule': destructive(
    'The tasks pull their image through it: without it a new task cannot start.',
  ),
  'AWS::ECR::Repository': destructive('It holds images, deleted with the repository.'),
  'AWS::IAM::OIDCProvider': destructive(
    'Every GitHub role of the account trusts it: without it no workflow gets AWS credentials.',
  ),
  'AWS::IAM::Role': destructive(
    'Trust policies, workflows and the bootstrap name roles by ARN: a new role is a new identity, and sessions in use lose their rights.',
  ),
  'AWS::IAM::ManagedPolicy': destructive(
    'Named by ARN outside its stack (the bootstrap’s execution policy, permissions boundaries): removing or replacing it breaks what names it.',
  ),
  'AWS::IAM::Policy': routine('Inline grants of a role, shown in the Security section: no data, and the role stays.'),
};

/** A type the table does not know: destructive, until someone adds it with a reason. */
export const UNKNOWN_TYPE: TypeClassification = destructive(
  'Not in the classification table (docs/security.md): treated as destructive until it is added with a reason.',
);

/** The class of a removal or replacement of a resource of `type`. */
export function classifyRemoval(type: string): TypeClassification {
  return Object.hasOwn(REMOVAL_CLASSIFICATION, type) ? REMOVAL_CLASSIFICATION[type]! : UNKNOWN_TYPE;
}
