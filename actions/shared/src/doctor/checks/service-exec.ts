import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip, updateService } from './finding.js';

/** ECS Exec is enabled on the service (its new tasks start with the SSM agent). */
export const checkServiceExec: Check = ({ target, service }) => {
  const found = factValue(service);
  if (!found) return skip('service-exec', factError(service)!);
  if (found.enableExecuteCommand) return ok('service-exec', `ECS Exec is enabled on service ${target.service}`);
  return fail(
    'service-exec',
    `ECS Exec is off on service ${target.service} (enableExecuteCommand: false): its tasks run no SSM agent, ` +
      'so StartSession answers TargetNotConnected.',
    `${updateService(target, '--enable-execute-command')}\n` +
      `In CDK: enableExecuteCommand: true on the FargateService in ${CDK.service}, then deploy.`,
  );
};
