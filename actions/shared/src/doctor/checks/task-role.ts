import { decide, type ActionDecision } from '../policy.js';
import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip, warn } from './finding.js';

/** What the SSM agent in the task does with the task role's credentials. */
export const SSMMESSAGES_ACTIONS = [
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
] as const;

const STATEMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: SSMMESSAGES_ACTIONS, Resource: '*' }],
});

/** The task role allows the four ssmmessages channel actions (and its permissions boundary does too). */
export const checkTaskRole: Check = ({ taskRole }) => {
  const role = factValue(taskRole);
  if (!role) return skip('task-role', factError(taskRole)!);
  if (!role.roleArn) {
    return fail(
      'task-role',
      'the task definition has no task role: the SSM agent has no credentials to open its channels.',
      `In CDK, FargateTaskDefinition creates a task role and enableExecuteCommand: true on the service (${CDK.service}) ` +
        'grants it the ssmmessages actions; with the CLI, register a task definition revision with --task-role-arn.',
    );
  }
  const roleName = role.roleArn.split('/').pop()!;
  const identity = new Map<string, ActionDecision>(SSMMESSAGES_ACTIONS.map((a) => [a, decide(role.policies, a)]));
  const missing = SSMMESSAGES_ACTIONS.filter((a) => ['denied', 'implicitDeny'].includes(identity.get(a)!));
  if (missing.length > 0) {
    return fail(
      'task-role',
      `task role ${roleName} does not allow ${missing.join(', ')}: the agent cannot open its channels (TargetNotConnected).`,
      `aws iam put-role-policy --role-name ${roleName} --policy-name ecs-exec-ssmmessages --policy-document '${STATEMENT}'\n` +
        `In CDK: enableExecuteCommand: true on the FargateService (${CDK.service}) adds them to the task role's DefaultPolicy.`,
    );
  }
  if (role.boundary) {
    const blocked = SSMMESSAGES_ACTIONS.filter((a) => decide([role.boundary!], a) !== 'allowed');
    if (blocked.length > 0) {
      return fail(
        'task-role',
        `the permissions boundary ${role.boundary.name} of task role ${roleName} does not allow ${blocked.join(', ')}.`,
        `Add them to the boundary: the EcsExecAgent statement of permissionsBoundaryStatements() in ${CDK.policies}, then deploy the OIDC stack.`,
      );
    }
  }
  if (role.boundaryError) {
    return warn(
      'task-role',
      `task role ${roleName} allows the 4 ssmmessages channel actions, but its permissions boundary could not be read (${role.boundaryError}).`,
      `Check that the boundary allows them: aws iam get-role --role-name ${roleName} --query Role.PermissionsBoundary`,
    );
  }
  const conditional = SSMMESSAGES_ACTIONS.filter((a) => identity.get(a) === 'conditional');
  if (conditional.length > 0) {
    return warn(
      'task-role',
      `task role ${roleName} allows ${conditional.join(', ')} only under conditions (or with a conditional Deny) the doctor does not evaluate.`,
      `Check them: aws iam list-role-policies --role-name ${roleName}`,
    );
  }
  return ok(
    'task-role',
    `task role ${roleName} allows the 4 ssmmessages channel actions${role.boundary ? ` (boundary ${role.boundary.name} too)` : ''}`,
  );
};
