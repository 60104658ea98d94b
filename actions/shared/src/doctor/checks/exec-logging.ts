import { factError, factValue, type Check } from '../types.js';
import { CDK, ok, skip, warn } from './finding.js';

/** Informational: where the cluster records ECS Exec sessions, and that the log group exists. */
export const checkExecLogging: Check = ({ target, execLogging }) => {
  const found = factValue(execLogging);
  if (!found) return skip('exec-logging', factError(execLogging)!);
  if (found.logging === 'NONE') {
    return warn(
      'exec-logging',
      `cluster ${target.cluster} does not log ECS Exec sessions (logging NONE): port forwards leave no audit trail.`,
      `In CDK: executeCommandConfiguration with logging OVERRIDE and a log group on the Cluster in ${CDK.service}.`,
    );
  }
  if (found.logging !== 'OVERRIDE' || !found.logGroupName) {
    const where = found.s3BucketName ? ` to s3://${found.s3BucketName}` : '';
    return ok(
      'exec-logging',
      `cluster ${target.cluster} logs ECS Exec sessions with logging ${found.logging}${where}${found.logging === 'DEFAULT' ? " (the container's awslogs configuration)" : ''}`,
    );
  }
  if (found.logGroupExists === false) {
    return warn(
      'exec-logging',
      `cluster ${target.cluster} sends ECS Exec logs to ${found.logGroupName}, which does not exist: session logs are lost.`,
      `aws logs create-log-group --log-group-name ${found.logGroupName} --region ${target.region} (or redeploy the service stack, which owns it)`,
    );
  }
  const checked =
    found.logGroupExists === true
      ? ', which exists'
      : ` (not looked up${found.logGroupError ? `: ${found.logGroupError}` : ''})`;
  return ok('exec-logging', `cluster ${target.cluster} logs ECS Exec sessions to ${found.logGroupName}${checked}`);
};
