import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip } from './finding.js';

/** The container's root filesystem is writable: the ECS Exec agent writes its files into it. */
export const checkReadonlyRoot: Check = ({ target, container }) => {
  const found = factValue(container);
  if (!found) return skip('readonly-root', factError(container)!);
  if (!found.readonlyRootFilesystem)
    return ok('readonly-root', `container ${target.container} has a writable root filesystem`);
  return fail(
    'readonly-root',
    `container ${target.container} has readonlyRootFilesystem: true: the ECS Exec agent cannot write its files, so it does not start.`,
    `In CDK: readonlyRootFilesystem: false in addContainer of ${CDK.service}, then deploy (a new task definition revision replaces the task).`,
  );
};
