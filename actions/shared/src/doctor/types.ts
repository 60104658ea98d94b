/** What the ECS Exec doctor works with: the target, what it learned about it, and what it found. */
import type { Cluster, ContainerDefinition, Service, Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { SecurityGroup, VpcEndpoint } from '@aws-sdk/client-ec2';

/** One check's verdict. `skip`: the check could not run (the message says why); never a pass. */
export interface DoctorFinding {
  readonly check: string;
  readonly status: 'ok' | 'fail' | 'warn' | 'skip';
  readonly message: string;
  /** The exact change that fixes it (a command, or the CDK property and file). */
  readonly fix?: string;
}

/** The service (and optionally one task) the doctor examines. */
export interface DoctorTarget {
  readonly cluster: string;
  readonly service: string;
  readonly container: string;
  /** A task id (or ARN) of the service. @default - a RUNNING task of the service's current task definition */
  readonly taskId?: string;
  readonly region: string;
}

/** A gathered fact, or why it could not be gathered (the checks that need it are skipped). */
export type Fact<T> = { readonly value: T } | { readonly error: string };

/** An IAM policy document, as far as the doctor reads it. */
export interface PolicyDocument {
  readonly Statement?: PolicyStatement | PolicyStatement[];
}

export interface PolicyStatement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: unknown;
}

export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface TaskRoleFacts {
  /** undefined when the task definition has no task role. */
  readonly roleArn?: string;
  /** Inline and attached managed policies. */
  readonly policies: NamedPolicy[];
  /** The permissions boundary, when the role has one. */
  readonly boundary?: NamedPolicy;
  /** Why the role's permissions boundary could not be read. */
  readonly boundaryError?: string;
}

export interface SubnetFacts {
  readonly subnetId: string;
  readonly cidr: string;
}

export interface NetworkFacts {
  readonly vpcId: string;
  /** The task's subnets (from the service's awsvpc configuration). */
  readonly taskSubnets: SubnetFacts[];
  readonly taskSecurityGroups: SecurityGroup[];
  /** Whether the VPC resolves private DNS names (both attributes are needed for private DNS). */
  readonly dnsSupport?: boolean;
  readonly dnsHostnames?: boolean;
  /** Interface endpoints for `com.amazonaws.<region>.ssmmessages` in the VPC. */
  readonly ssmMessagesEndpoints: VpcEndpoint[];
  /** Security groups of those endpoints, by id. */
  readonly endpointSecurityGroups: SecurityGroup[];
  /** Subnets of those endpoints (for the task's egress). */
  readonly endpointSubnets: SubnetFacts[];
}

export interface SimulationResult {
  readonly resource: string;
  /** `allowed`, `explicitDeny` or `implicitDeny`. */
  readonly decision: string;
}

export interface CallerFacts {
  /** The caller as STS reports it (`...:assumed-role/...` or `...:user/...`). */
  readonly callerArn: string;
  /** The principal simulated (the role ARN for an assumed role). */
  readonly principalArn: string;
  readonly results: SimulationResult[];
}

export interface ExecLoggingFacts {
  readonly logging: string;
  readonly logGroupName?: string;
  /** Whether the log group exists; undefined when that could not be checked. */
  readonly logGroupExists?: boolean;
  readonly logGroupError?: string;
  readonly s3BucketName?: string;
}

/** Everything the checks look at, gathered once. */
export interface DoctorFacts {
  readonly target: DoctorTarget;
  readonly service: Fact<Service>;
  /** The task examined, and how many RUNNING tasks the service has. */
  readonly task: Fact<Task>;
  readonly runningTasks: number;
  readonly taskDefinition: Fact<TaskDefinition>;
  /** The examined container's definition in the task definition. */
  readonly container: Fact<ContainerDefinition>;
  readonly taskRole: Fact<TaskRoleFacts>;
  readonly network: Fact<NetworkFacts>;
  readonly caller: Fact<CallerFacts>;
  readonly cluster: Fact<Cluster>;
  readonly execLogging: Fact<ExecLoggingFacts>;
}

/** A check: one small function of the facts. */
export type Check = (facts: DoctorFacts) => DoctorFinding;

/** The value of a fact, or undefined (use `factError` for the reason). */
export function factValue<T>(fact: Fact<T>): T | undefined {
  return 'value' in fact ? fact.value : undefined;
}

export function factError<T>(fact: Fact<T>): string | undefined {
  return 'error' in fact ? fact.error : undefined;
}

/** The task's id from its ARN. */
export function taskIdOf(task: Task): string {
  return task.taskArn?.split('/').pop() ?? '?';
}
