import { factError, factValue, type Check } from '../types.js';
import { CDK, fail, ok, skip, updateService } from './finding.js';

/** ECS Exec's minimum Fargate platform version. */
export const MIN_FARGATE_PLATFORM = [1, 4, 0] as const;

/** `1.4.0` → [1, 4, 0]; undefined for anything else (`LATEST` is resolved on the task). */
export function parsePlatformVersion(version: string | undefined): number[] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version ?? '');
  return match ? match.slice(1).map(Number) : undefined;
}

function atLeast(version: number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    if ((version[i] ?? 0) !== minimum[i]) return (version[i] ?? 0) > minimum[i]!;
  }
  return true;
}

/** Fargate tasks need platform version 1.4.0 or later for ECS Exec. */
export const checkPlatformVersion: Check = ({ target, task, service }) => {
  const found = factValue(task);
  if (!found) return skip('platform-version', factError(task)!);
  const fargate =
    found.launchType === 'FARGATE' ||
    (found.launchType === undefined && /^FARGATE/.test(found.capacityProviderName ?? ''));
  if (!fargate) {
    return skip(
      'platform-version',
      `launch type ${found.launchType ?? 'unknown'} has no platform version (on EC2, the ECS agent must be 1.50.2 or later)`,
    );
  }
  const raw = found.platformVersion ?? factValue(service)?.platformVersion;
  const version = parsePlatformVersion(raw);
  if (!version) return skip('platform-version', `the task reports platform version '${raw ?? 'none'}'`);
  if (atLeast(version, MIN_FARGATE_PLATFORM)) return ok('platform-version', `Fargate platform ${raw} (>= 1.4.0)`);
  return fail(
    'platform-version',
    `Fargate platform ${raw} is too old for ECS Exec (needs 1.4.0 or later).`,
    `${updateService(target, '--platform-version 1.4.0')}\n` +
      `In CDK: platformVersion: ecs.FargatePlatformVersion.VERSION1_4 (or LATEST) on the FargateService in ${CDK.service}.`,
  );
};
