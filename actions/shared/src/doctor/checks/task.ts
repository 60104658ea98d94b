import { factError, factValue, taskIdOf, type Check } from '../types.js';
import { fail, ok, skip } from './finding.js';

/** The service exists and has a RUNNING task to examine. */
export const checkTask: Check = ({ target, service, task, runningTasks }) => {
  const found = factValue(task);
  if (!factValue(service) && !target.taskId) {
    const error = factError(service)!;
    if (/not found|ClusterNotFound|ServiceNotFound|MISSING|INACTIVE/.test(error)) {
      return fail(
        'task',
        `${target.cluster}/${target.service}: ${error}`,
        `Check the names (cluster ${target.cluster}, service ${target.service}, region ${target.region}); ` +
          'deploy the service stack first (npm run cdk -- deploy <env>-service).',
      );
    }
    return skip('task', error);
  }
  if (!found) {
    const error = factError(task)!;
    if (/no RUNNING task|not found/.test(error)) {
      return fail(
        'task',
        `${error}: there is nothing to connect to.`,
        `aws ecs describe-services --cluster ${target.cluster} --services ${target.service} --region ${target.region} ` +
          '--query "services[0].events[:5]"  (why tasks fail to start: image pull, health check, capacity)',
      );
    }
    return skip('task', error);
  }
  if (found.lastStatus !== 'RUNNING') {
    return fail(
      'task',
      `task ${taskIdOf(found)} is ${found.lastStatus ?? 'in an unknown state'}, not RUNNING (stopped: ${found.stoppedReason ?? 'no reason given'})`,
      `Examine a running task instead: omit --task, or pick one from aws ecs list-tasks --cluster ${target.cluster} --service-name ${target.service} --region ${target.region}`,
    );
  }
  const revision = found.taskDefinitionArn?.split('/').pop() ?? '?';
  return ok(
    'task',
    `examining task ${taskIdOf(found)} (RUNNING, ${revision}; ${runningTasks} running in ${target.service})`,
  );
};
