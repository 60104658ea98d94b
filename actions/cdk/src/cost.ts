import {
  awakeHoursPerMonth,
  describeSchedule,
  readScheduleMetadata,
  SCHEDULE_METADATA_KEY,
} from '../../../infra/lib/schedule.js';
import { FREE_TYPES, PRICE_TABLE, USAGE_BASED_TYPES } from './prices.js';

/** A CloudFormation resource as the estimate reads it. */
export interface CostResource {
  readonly Type?: string;
  readonly Properties?: Record<string, unknown>;
  /**
   * Read for `gitops:schedule` (infra/lib/schedule.ts): a resource that sleeps outside its
   * environment's schedule (an interface endpoint, the ECS service) is priced for the awake hours.
   */
  readonly Metadata?: Record<string, unknown>;
  /**
   * Not read: a conditional resource is priced as if its condition held (the `Awake` parameter's
   * default), for the hours its schedule keeps it, if any.
   */
  readonly Condition?: string;
}

/** The fixed monthly cost of one resource. */
export interface CostItem {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly monthly: number;
  /** How the figure was reached (e.g. "2 AZ × 730 h × 0.014"). */
  readonly basis: string;
}

export interface CostEstimate {
  readonly items: readonly CostItem[];
  readonly total: number;
  /** Types billed by usage only, present in the templates. */
  readonly usageBased: readonly string[];
  /** Types the price table does not know. */
  readonly notPriced: readonly string[];
}

export type StackResources = Record<string, Record<string, CostResource>>;

const round2 = (value: number): number => Math.round(value * 100) / 100;

function refTarget(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'Ref' in value && typeof (value as { Ref: unknown }).Ref === 'string') {
    return (value as { Ref: string }).Ref;
  }
  return undefined;
}

/**
 * The value of a property while the stack is awake: `Fn::If [condition, awake, asleep]` is the
 * sleep switch's (the `Awake` parameter defaults to true, and the estimate prices what runs awake).
 */
function awakeValue(value: unknown): unknown {
  const branches = (value as { 'Fn::If'?: unknown } | undefined)?.['Fn::If'];
  return Array.isArray(branches) && branches.length === 3 ? awakeValue(branches[1]) : value;
}

/** The hours a month a resource runs: all of them, or its schedule's awake hours, with the words for the basis. */
function runningHours(resource: CostResource): { hours: number; text: string } {
  const schedule = readScheduleMetadata(resource.Metadata?.[SCHEDULE_METADATA_KEY]);
  if (!schedule) return { hours: PRICE_TABLE.hoursPerMonth, text: `${PRICE_TABLE.hoursPerMonth} h` };
  const hours = awakeHoursPerMonth(schedule, PRICE_TABLE.hoursPerMonth);
  return { hours, text: `${round2(hours)} h awake (${describeSchedule(schedule)})` };
}

function fargateMonthly(
  service: CostResource,
  taskDefinition: CostResource | undefined,
): { monthly: number; basis: string } | undefined {
  const properties = taskDefinition?.Properties;
  const cpu = Number(properties?.Cpu);
  const memory = Number(properties?.Memory);
  if (!Number.isFinite(cpu) || !Number.isFinite(memory)) return undefined;
  const count = Number(awakeValue(service.Properties?.DesiredCount) ?? 1);
  if (!Number.isFinite(count)) return undefined;
  const platform = properties?.RuntimePlatform as { CpuArchitecture?: string } | undefined;
  const arm = platform?.CpuArchitecture === 'ARM64';
  const strategies =
    (service.Properties?.CapacityProviderStrategy as Array<{ CapacityProvider?: string }> | undefined) ?? [];
  const spot = strategies.some((strategy) => strategy.CapacityProvider === 'FARGATE_SPOT');
  const vcpu = cpu / 1024;
  const gb = memory / 1024;
  const hourly =
    vcpu * (arm ? PRICE_TABLE.fargateArmVcpuHour : PRICE_TABLE.fargateX86VcpuHour) +
    gb * (arm ? PRICE_TABLE.fargateArmGbHour : PRICE_TABLE.fargateX86GbHour);
  const factor = spot ? PRICE_TABLE.fargateSpotFactor : 1;
  const running = runningHours(service);
  return {
    monthly: count * hourly * factor * running.hours,
    basis: `${count} task × ${vcpu} vCPU/${gb} GB ${arm ? 'ARM64' : 'x86_64'}${spot ? ' Spot' : ''} × ${running.text}`,
  };
}

/** Estimates the fixed monthly cost of the given stacks' resources from the committed price table. */
export function estimateCost(stacks: StackResources): CostEstimate {
  const items: CostItem[] = [];
  const usageBased = new Set<string>();
  const notPriced = new Set<string>();
  for (const [stack, resources] of Object.entries(stacks)) {
    for (const [logicalId, resource] of Object.entries(resources)) {
      const type = resource.Type ?? 'unknown';
      const properties = resource.Properties ?? {};
      if (type === 'AWS::EC2::VPCEndpoint') {
        if (properties.VpcEndpointType !== 'Interface') continue; // gateway endpoints are free
        const subnets = Array.isArray(properties.SubnetIds) ? properties.SubnetIds.length : 1;
        const running = runningHours(resource);
        items.push({
          stack,
          logicalId,
          type,
          monthly: subnets * running.hours * PRICE_TABLE.interfaceEndpointHour,
          basis: `${subnets} AZ × ${running.text} × ${PRICE_TABLE.interfaceEndpointHour}`,
        });
      } else if (type === 'AWS::ECS::Service') {
        const target = refTarget(properties.TaskDefinition);
        const fargate = fargateMonthly(resource, target ? resources[target] : undefined);
        if (fargate) items.push({ stack, logicalId, type, ...fargate });
        else notPriced.add(type);
      } else if (type === 'AWS::KMS::Key') {
        items.push({ stack, logicalId, type, monthly: PRICE_TABLE.kmsKeyMonth, basis: `1 key-month` });
      } else if (type === 'AWS::EC2::NatGateway') {
        items.push({
          stack,
          logicalId,
          type,
          monthly: PRICE_TABLE.hoursPerMonth * PRICE_TABLE.natGatewayHour,
          basis: `${PRICE_TABLE.hoursPerMonth} h × ${PRICE_TABLE.natGatewayHour}`,
        });
      } else if (USAGE_BASED_TYPES.has(type)) {
        usageBased.add(type);
      } else if (!FREE_TYPES.has(type)) {
        notPriced.add(type);
      }
    }
  }
  return {
    items: items.map((item) => ({ ...item, monthly: round2(item.monthly) })),
    total: round2(items.reduce((sum, item) => sum + item.monthly, 0)),
    usageBased: [...usageBased].sort(),
    notPriced: [...notPriced].sort(),
  };
}

/** One line of the cost table: a priced resource before and after the change. */
export interface CostChangeRow {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly before?: number;
  readonly after?: number;
  readonly basis: string;
}

export interface CostChange {
  readonly before: CostEstimate;
  readonly after: CostEstimate;
  readonly delta: number;
  /** Priced resources whose cost changes (added, removed or resized). */
  readonly changed: readonly CostChangeRow[];
}

/** Compares the estimate of what is deployed with the estimate of what the change deploys. */
export function compareCost(before: StackResources, after: StackResources): CostChange {
  const old = estimateCost(before);
  const next = estimateCost(after);
  const key = (item: CostItem): string => `${item.stack}/${item.logicalId}`;
  const oldByKey = new Map(old.items.map((item) => [key(item), item]));
  const newByKey = new Map(next.items.map((item) => [key(item), item]));
  const changed: CostChangeRow[] = [];
  for (const id of [...new Set([...oldByKey.keys(), ...newByKey.keys()])].sort()) {
    const was = oldByKey.get(id);
    const will = newByKey.get(id);
    if (was && will && was.monthly === will.monthly) continue;
    const any = (will ?? was)!;
    changed.push({
      stack: any.stack,
      logicalId: any.logicalId,
      type: any.type,
      before: was?.monthly,
      after: will?.monthly,
      basis: any.basis,
    });
  }
  return { before: old, after: next, delta: round2(next.total - old.total), changed };
}
