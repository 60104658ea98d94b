import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Gives every role the stack creates the boundary the OIDC stack defines. The CloudFormation
 * execution policy only allows creating roles that carry it, so a deploy cannot mint a role with
 * more rights than the workload needs. Referenced by name: the OIDC stack is deployed apart.
 */
export function applyPermissionsBoundary(stack: Stack, boundaryName: string): void {
  const boundary = iam.ManagedPolicy.fromManagedPolicyName(stack, 'PermissionsBoundary', boundaryName);
  iam.PermissionsBoundary.of(stack).apply(boundary);
}
