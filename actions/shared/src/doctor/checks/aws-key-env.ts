import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip, warn } from './finding.js';

/** Variables that make the agent use static keys instead of the task role (the ecs-exec-checker list). */
export const AWS_KEY_VARIABLES = ['AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

/** No AWS key variables in the container: the agent would use them instead of the task role. */
export const checkAwsKeyEnv: Check = ({ target, container }) => {
  const found = factValue(container);
  if (!found) return skip('aws-key-env', factError(container)!);
  const names = [
    ...(found.environment ?? []).map((v) => v.name ?? ''),
    ...(found.secrets ?? []).map((s) => `${s.name ?? ''}`),
  ];
  const keys = AWS_KEY_VARIABLES.filter((name) => names.includes(name));
  if (keys.length > 0) {
    return fail(
      'aws-key-env',
      `container ${target.container} sets ${keys.join(', ')}: the ECS Exec agent then signs with those keys instead of the task role, and its channels fail.`,
      `Remove ${keys.join(', ')} from the container's environment and secrets (addContainer in ${CDK.service}; the task role provides credentials), then deploy.`,
    );
  }
  if ((found.environmentFiles ?? []).length > 0) {
    return warn(
      'aws-key-env',
      `no AWS key variables in the task definition, but container ${target.container} also reads environment files the doctor cannot see into.`,
      `Make sure the files (${found.environmentFiles!.map((f) => f.value).join(', ')}) set none of ${AWS_KEY_VARIABLES.join(', ')}.`,
    );
  }
  return ok('aws-key-env', `no AWS key variables in container ${target.container}`);
};
