/**
 * What the emulator pretends is running: ECS services and tasks with their runtime view (the part
 * moto lacks: runtimeId, managed agents, exec flags, rollout state), the agent version, and where
 * a port inside a task really is on this machine (e.g. port 80 → a real nginx on loopback).
 */
import { resourceNames } from '../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';

export type AgentStatus = 'PENDING' | 'RUNNING' | 'STOPPED';
export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface EmulatedContainer {
  readonly name: string;
  readonly runtimeId: string;
  /** ExecuteCommandAgent status; undefined when ECS Exec was off at launch (no agent at all). */
  agentStatus?: AgentStatus;
  /** Environment variable names (values are never needed): the doctor looks for AWS keys. */
  environment?: string[];
  /** Names of variables injected from Secrets Manager or Parameter Store (`secrets`). */
  secrets?: string[];
  readonlyRootFilesystem?: boolean;
}

export interface EmulatedTask {
  readonly taskId: string;
  lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED';
  taskDefinitionArn: string;
  enableExecuteCommand: boolean;
  platformVersion: string;
  readonly containers: EmulatedContainer[];
}

export interface EmulatedService {
  readonly serviceName: string;
  enableExecuteCommand: boolean;
  taskDefinitionArn: string;
  rolloutState: RolloutState;
  desiredCount: number;
  platformVersion: string;
  /** Security groups and subnets (for the doctor's endpoint checks). */
  securityGroups?: string[];
  subnets?: string[];
  /** The task role of the service's task definitions (DescribeTaskDefinition). @default - none */
  taskRoleArn?: string;
  readonly tasks: EmulatedTask[];
}

/** The cluster's ECS Exec logging (`executeCommandConfiguration` in DescribeClusters). */
export interface EmulatedExecLogging {
  logging: 'DEFAULT' | 'NONE' | 'OVERRIDE';
  cloudWatchLogGroupName?: string;
}

export interface EmulatedCluster {
  readonly clusterName: string;
  /** @default { logging: 'DEFAULT' } */
  execLogging?: EmulatedExecLogging;
  readonly services: EmulatedService[];
}

/** Where a destination a session asks for really is: `host:port` inside the task → loopback. */
export type Destination = { readonly host: string; readonly port: number };

export interface Scenario {
  readonly account: string;
  readonly region: string;
  readonly clusters: EmulatedCluster[];
  /** The AgentVersion the emulated agent reports in its HandshakeRequest. */
  agentVersion: string;
  /**
   * Whether RUNNING agents are connected to SSM. False models an agent that ECS reports as RUNNING
   * but that cannot reach `ssmmessages` (no endpoint or route, task role without the channel
   * actions): StartSession then answers TargetNotConnected. @default true
   */
  agentsReachSsm?: boolean;
  /**
   * Maps what a session asks for (`portNumber`, and `host` for ToRemoteHost; `localhost` for the
   * plain document) to a real address on this machine. Unmapped destinations refuse connections.
   */
  readonly destinations: Record<string, Destination>;
}

export const DEFAULT_AGENT_VERSION = '3.3.1802.0';

/**
 * One healthy service with one RUNNING task whose exec agent is RUNNING; port 80 → `target`. By
 * default it plays the first configured environment (gitops.config.json): its account, region,
 * cluster, service and container names.
 */
export function healthyScenario(options: {
  readonly target: Destination;
  readonly cluster?: string;
  readonly service?: string;
  readonly container?: string;
  readonly account?: string;
  readonly region?: string;
  readonly agentVersion?: string;
  readonly revision?: number;
  /** @default arn:aws:iam::<account>:role/<env>-service-NginxTaskDefinitionTaskRole */
  readonly taskRoleArn?: string;
}): Scenario {
  const first = ENVIRONMENTS[0]!;
  const names = resourceNames(first);
  const account = options.account ?? first.account;
  const region = options.region ?? first.region;
  const cluster = options.cluster ?? names.cluster;
  const family = `${cluster.replace(/-cluster$/, '')}-service-NginxTaskDefinition`;
  const taskDefinitionArn = `arn:aws:ecs:${region}:${account}:task-definition/${family}:${options.revision ?? 1}`;
  return {
    account,
    region,
    agentVersion: options.agentVersion ?? DEFAULT_AGENT_VERSION,
    destinations: { 'localhost:80': options.target },
    clusters: [
      {
        clusterName: cluster,
        execLogging: { logging: 'DEFAULT' },
        services: [
          {
            serviceName: options.service ?? names.service,
            enableExecuteCommand: true,
            taskDefinitionArn,
            rolloutState: 'COMPLETED',
            desiredCount: 1,
            platformVersion: '1.4.0',
            securityGroups: ['sg-0service'],
            subnets: ['subnet-0isolated1', 'subnet-0isolated2'],
            taskRoleArn:
              options.taskRoleArn ??
              `arn:aws:iam::${account}:role/${cluster.replace(/-cluster$/, '')}-service-NginxTaskDefinitionTaskRole`,
            tasks: [
              {
                taskId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
                lastStatus: 'RUNNING',
                taskDefinitionArn,
                enableExecuteCommand: true,
                platformVersion: '1.4.0',
                containers: [
                  {
                    name: options.container ?? names.container,
                    runtimeId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9-1234567890',
                    agentStatus: 'RUNNING',
                    environment: [],
                    readonlyRootFilesystem: false,
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

/**
 * The SSM target of a scenario's first task's first container, as ECS Exec names it:
 * `ecs:<cluster>_<task id>_<container runtime id>`.
 */
export function ssmTargetOf(scenario: Scenario): string {
  const cluster = scenario.clusters[0]!;
  const task = cluster.services[0]!.tasks[0]!;
  return `ecs:${cluster.clusterName}_${task.taskId}_${task.containers[0]!.runtimeId}`;
}
