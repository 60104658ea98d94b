import { factError, factValue, taskIdOf, type Check } from '../types.js';
import { fail, ok, skip, updateService } from './finding.js';

/** The ExecuteCommandAgent of the container is RUNNING (what StartSession connects to). */
export const checkAgent: Check = ({ target, task }) => {
  const found = factValue(task);
  if (!found) return skip('agent', factError(task)!);
  const container = found.containers?.find((c) => c.name === target.container);
  if (!container) {
    return fail(
      'agent',
      `task ${taskIdOf(found)} has no container named ${target.container} (it has ${(found.containers ?? []).map((c) => c.name).join(', ') || 'none'}).`,
      'Pass the container the service really runs (the ContainerName output of the service stack).',
    );
  }
  const agent = container.managedAgents?.find((a) => a.name === 'ExecuteCommandAgent');
  if (!agent) {
    return fail(
      'agent',
      `container ${target.container} has no ExecuteCommandAgent: the task started without ECS Exec, so StartSession answers TargetNotConnected.`,
      `Enable ECS Exec (if off) and replace the task: ${updateService(target, '--enable-execute-command')}`,
    );
  }
  const reason = agent.reason ? ` (${agent.reason})` : '';
  switch (agent.lastStatus) {
    case 'RUNNING':
      return ok('agent', `ExecuteCommandAgent of ${target.container} is RUNNING`);
    case 'PENDING':
      return fail(
        'agent',
        `the ExecuteCommandAgent of ${target.container} is PENDING${reason}: it is still starting, or cannot reach ssmmessages.`,
        'Wait a minute and run the doctor again. If it stays PENDING, fix the failing ssmmessages-endpoint, ' +
          `endpoint-security-group or task-role check, then replace the task: ${updateService(target)}`,
      );
    default:
      return fail(
        'agent',
        `the ExecuteCommandAgent of ${target.container} is ${agent.lastStatus ?? 'in an unknown state'}${reason}: it could not start or lost its connection.`,
        'Usual causes: a read-only root filesystem, AWS key variables in the container, a task role without the ' +
          'ssmmessages actions, or no route to ssmmessages (see the other findings). After fixing them, replace the task: ' +
          updateService(target),
      );
  }
};
