import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip } from './finding.js';

/**
 * The caller may `ssm:StartSession` on the task and the port-forwarding document, as IAM's policy
 * simulator says. When the simulation itself cannot run, the check is skipped, never passed.
 */
export const checkCallerStartSession: Check = ({ target, caller }) => {
  const found = factValue(caller);
  if (!found) {
    return skip(
      'caller-start-session',
      `${factError(caller)!}. Whether you may start a session was not verified (the simulation needs iam:SimulatePrincipalPolicy on your own principal).`,
    );
  }
  const denied = found.results.filter((r) => r.decision !== 'allowed');
  if (denied.length === 0) {
    return ok(
      'caller-start-session',
      `${found.principalArn} may ssm:StartSession on ${found.results.map((r) => r.resource).join(' and ')}`,
    );
  }
  const env = target.cluster.replace(/-cluster$/, '');
  return fail(
    'caller-start-session',
    `${found.principalArn} may not ssm:StartSession on ${denied.map((r) => `${r.resource} (${r.decision})`).join(', ')}: StartSession would answer AccessDeniedException.`,
    `Attach the developer policy ${env}-developer-port-forward (portForwardingStatements in ${CDK.policies}; docs/setup.md) ` +
      `to ${found.principalArn}, or grant ssm:StartSession on arn:aws:ecs:${target.region}:<account>:task/${target.cluster}/* ` +
      `and arn:aws:ssm:${target.region}::document/AWS-StartPortForwardingSession.`,
  );
};
