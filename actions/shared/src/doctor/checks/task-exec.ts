import { factError, factValue, taskIdOf, type Check } from '../types.js';
import { fail, ok, skip, updateService } from './finding.js';

/** ECS Exec was on when the examined task started (a service change reaches only new tasks). */
export const checkTaskExec: Check = ({ target, service, task }) => {
  const found = factValue(task);
  if (!found) return skip('task-exec', factError(task)!);
  const id = taskIdOf(found);
  if (found.enableExecuteCommand) return ok('task-exec', `ECS Exec is enabled on task ${id}`);
  if (factValue(service)?.enableExecuteCommand) {
    return fail(
      'task-exec',
      `ECS Exec is enabled on the service but not on task ${id}: the task started before the change ` +
        '(the service was updated but the task not replaced).',
      `Replace the task: ${updateService(target)}`,
    );
  }
  return fail(
    'task-exec',
    `ECS Exec is off on task ${id} (enableExecuteCommand: false).`,
    `Enable it on the service and replace the task: ${updateService(target, '--enable-execute-command')}`,
  );
};
