import { REGION_PATTERN } from '../../../../infra/lib/names.js';
/**
 * The ECS Exec doctor: the checks of aws-samples' ecs-exec-checker, with the SDK, for one service
 * (or one of its tasks). Each finding says what is wrong and the exact fix. Used by
 * `npm run doctor` and by the smoke test when it cannot connect.
 */
import { UserInputError } from '../errors.js';
import { checkAgent } from './checks/agent.js';
import { checkAwsKeyEnv } from './checks/aws-key-env.js';
import { checkCallerStartSession } from './checks/caller-start-session.js';
import { checkEndpointSecurityGroup } from './checks/endpoint-security-group.js';
import { checkExecLogging } from './checks/exec-logging.js';
import { checkPlatformVersion } from './checks/platform-version.js';
import { checkReadonlyRoot } from './checks/readonly-root.js';
import { checkServiceExec } from './checks/service-exec.js';
import { checkSsmMessagesEndpoint } from './checks/ssmmessages-endpoint.js';
import { checkTask } from './checks/task.js';
import { checkTaskExec } from './checks/task-exec.js';
import { checkTaskRole } from './checks/task-role.js';
import { gatherFacts, type GatherDeps } from './gather.js';
import type { Check, DoctorFinding, DoctorTarget } from './types.js';

export type { DoctorFacts, DoctorFinding, DoctorTarget } from './types.js';
export { gatherFacts } from './gather.js';

/** The clients the doctor reads with (read-only calls only; it changes nothing). */
export type DoctorDeps = GatherDeps;

/** Every check, in the order a reader fixes things. */
export const CHECKS: readonly Check[] = [
  checkTask,
  checkServiceExec,
  checkTaskExec,
  checkPlatformVersion,
  checkAgent,
  checkTaskRole,
  checkReadonlyRoot,
  checkAwsKeyEnv,
  checkSsmMessagesEndpoint,
  checkEndpointSecurityGroup,
  checkCallerStartSession,
  checkExecLogging,
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;

function validate(target: DoctorTarget): void {
  for (const field of ['cluster', 'service', 'container'] as const) {
    if (!NAME.test(target[field] ?? ''))
      throw new UserInputError(`doctor: ${field} must be an ECS name, got '${target[field]}'`);
  }
  if (!REGION_PATTERN.test(target.region ?? ''))
    throw new UserInputError(`doctor: region must be an AWS region such as eu-west-1, got '${target.region}'`);
  if (target.taskId !== undefined && !/^[a-f0-9]{32}$/.test(target.taskId.split('/').pop()!))
    throw new UserInputError(`doctor: task must be a task id (32 hex characters) or task ARN, got '${target.taskId}'`);
}

/**
 * Runs every check against the service (or the given task). A check that fails is a finding, a
 * check that cannot run is a `skip` finding with the reason: this throws only for bad arguments.
 */
export async function runDoctor(
  deps: DoctorDeps,
  target: { cluster: string; service: string; container: string; taskId?: string; region: string },
): Promise<DoctorFinding[]> {
  validate(target);
  const facts = await gatherFacts(deps, {
    ...target,
    ...(target.taskId ? { taskId: target.taskId.split('/').pop()! } : {}),
  });
  const findings = CHECKS.map((check) => check(facts));
  for (const finding of findings) deps.logger?.debug(`doctor: ${finding.check} ${finding.status}: ${finding.message}`);
  return findings;
}

const MARKS: Record<DoctorFinding['status'], string> = { ok: '✔', fail: '✖', warn: '!', skip: '–' };

/** A plain-text report: one line per check, its fix indented below, then a summary line. */
export function formatFindings(findings: DoctorFinding[]): string {
  const width = Math.max(0, ...findings.map((f) => f.check.length));
  const lines = findings.flatMap((finding) => [
    `${MARKS[finding.status]} ${finding.check.padEnd(width)}  ${finding.message}`,
    ...(finding.fix
      ? finding.fix.split('\n').map((line, i) => `${' '.repeat(width + 4)}${i === 0 ? 'fix: ' : '     '}${line}`)
      : []),
  ]);
  const count = (status: DoctorFinding['status']): number => findings.filter((f) => f.status === status).length;
  lines.push(
    `${count('fail')} failed, ${count('warn')} warning${count('warn') === 1 ? '' : 's'}, ${count('skip')} skipped, ${count('ok')} ok`,
  );
  return lines.join('\n');
}

/** The findings that break ECS Exec (status `fail`). */
export function failed(findings: DoctorFinding[]): DoctorFinding[] {
  return findings.filter((finding) => finding.status === 'fail');
}
