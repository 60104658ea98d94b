/** Building findings, and the fixes several checks share. */
import type { DoctorFinding, DoctorTarget } from '../types.js';

export const ok = (check: string, message: string): DoctorFinding => ({ check, status: 'ok', message });
export const fail = (check: string, message: string, fix: string): DoctorFinding => ({
  check,
  status: 'fail',
  message,
  fix,
});
export const warn = (check: string, message: string, fix?: string): DoctorFinding => ({
  check,
  status: 'warn',
  message,
  ...(fix ? { fix } : {}),
});
/** A check that could not run: never a pass. */
export const skip = (check: string, reason: string): DoctorFinding => ({
  check,
  status: 'skip',
  message: `not checked: ${reason}`,
});

/** Where the project's CDK sets what the checks look at. */
export const CDK = {
  service: 'infra/lib/constructs/nginx-service.ts',
  network: 'infra/lib/constructs/private-network.ts',
  policies: 'infra/lib/iam-policies.ts',
} as const;

/** `aws ecs update-service` for the target, with extra flags. */
export function updateService(target: DoctorTarget, ...flags: string[]): string {
  return [
    'aws ecs update-service',
    `--cluster ${target.cluster}`,
    `--service ${target.service}`,
    ...flags,
    '--force-new-deployment',
    `--region ${target.region}`,
  ].join(' ');
}
