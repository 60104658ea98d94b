import type { Template } from 'aws-cdk-lib/assertions';
import { TemplateResolver, type Template as CfnTemplate } from '../../test/helpers/iam/intrinsics.js';
import type { EnvironmentConfig } from '../lib/config.js';
import { ENVIRONMENTS } from '../lib/project.js';
import {
  AWAKE_CONDITION,
  AWAKE_PARAMETER,
  SCHEDULE_METADATA_KEY,
  scheduleMetadata,
  type Schedule,
} from '../lib/schedule.js';
import { environment, FIRST, synthesize } from './helpers/app.js';

/** A synthesized template as plain JSON, with the sections these tests read. */
interface Json extends CfnTemplate {
  readonly Metadata?: Record<string, unknown>;
  readonly Resources: Record<
    string,
    {
      readonly Type: string;
      readonly Properties?: Record<string, unknown>;
      readonly Condition?: string;
      readonly DependsOn?: string | string[];
      readonly Metadata?: Record<string, unknown>;
    }
  >;
  readonly Outputs?: Record<string, unknown>;
}

const json = (template: Template): Json => template.toJSON() as Json;

/** The logical ids a template fragment names: Ref, Fn::GetAtt, and ${...} of Fn::Sub. */
function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (value === null || typeof value !== 'object') return [];
  const ids: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof child === 'string') ids.push(child);
    else if (key === 'Fn::GetAtt' && Array.isArray(child)) ids.push(String(child[0]));
    else if (key === 'Fn::Sub') {
      const text = Array.isArray(child) ? child[0] : child;
      if (typeof text === 'string') ids.push(...[...text.matchAll(/\$\{([^!}.]+)/g)].map((m) => m[1]!));
      ids.push(...referencedIds(Array.isArray(child) ? child[1] : undefined));
    } else ids.push(...referencedIds(child));
  }
  return ids;
}

/** What CloudFormation creates from a template with `Awake` set: the resources, with their properties resolved. */
function shapeWhen(awake: 'true' | 'false', template: Json, env: EnvironmentConfig, stackName: string) {
  const resolver = new TemplateResolver(template, {
    account: env.account,
    region: env.region,
    stackName,
    parameters: { [AWAKE_PARAMETER]: awake },
  });
  return Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => resolver.isCreated(resource))
      .map(([id, resource]) => [id, { Type: resource.Type, Properties: resolver.resolve(resource.Properties ?? {}) }]),
  ) as Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

const isInterfaceEndpoint = (resource: { Type: string; Properties?: Record<string, unknown> }): boolean =>
  resource.Type === 'AWS::EC2::VPCEndpoint' && resource.Properties?.VpcEndpointType === 'Interface';

describe.each(ENVIRONMENTS.map((env) => [env.name, env] as const))('the sleep switch of %s', (_name, configured) => {
  let env: EnvironmentConfig;
  let network: Json;
  let service: Json;
  let names: { network: string; service: string };
  beforeAll(() => {
    env = environment(configured.name);
    const synthesized = synthesize(env);
    network = json(synthesized.network);
    service = json(synthesized.service);
    names = { network: synthesized.stacks.network.stackName, service: synthesized.stacks.service.stackName };
  });

  it.each(['network', 'service'] as const)(
    'gives the %s stack the Awake parameter (true or false, true by default) and its condition',
    (stack) => {
      const template = stack === 'network' ? network : service;
      expect(template.Parameters?.[AWAKE_PARAMETER]).toEqual({
        Type: 'String',
        AllowedValues: ['true', 'false'],
        Default: 'true',
        Description: expect.stringMatching(/sleep workflow flips it with the previous template and nothing else/),
      });
      expect(template.Conditions).toEqual({ [AWAKE_CONDITION]: { 'Fn::Equals': [{ Ref: AWAKE_PARAMETER }, 'true'] } });
    },
  );

  it('makes every interface endpoint, and nothing else of either stack, conditional', () => {
    const conditional = (template: Json) =>
      Object.values(template.Resources)
        .filter((resource) => resource.Condition !== undefined)
        .map((resource) => [resource.Type, resource.Properties?.VpcEndpointType, resource.Condition]);
    const interfaceEndpoints = Object.values(network.Resources).filter(isInterfaceEndpoint);
    expect(interfaceEndpoints.length).toBeGreaterThan(0);
    expect(conditional(network)).toEqual(
      interfaceEndpoints.map(() => ['AWS::EC2::VPCEndpoint', 'Interface', AWAKE_CONDITION]),
    );
    expect(conditional(service)).toEqual([]);
  });

  it.each(['network', 'service'] as const)(
    'has nothing unconditional in the %s stack that names a conditional resource',
    (stack) => {
      const template = stack === 'network' ? network : service;
      const conditional = new Set(
        Object.entries(template.Resources)
          .filter(([, resource]) => resource.Condition !== undefined)
          .map(([id]) => id),
      );
      const naming = [
        ...Object.entries(template.Resources)
          .filter(([, resource]) => resource.Condition === undefined)
          .flatMap(([id, resource]) =>
            [...referencedIds(resource), ...[resource.DependsOn ?? []].flat()].map((target) => `${id} → ${target}`),
          ),
        ...Object.entries(template.Outputs ?? {}).flatMap(([id, output]) =>
          referencedIds(output).map((target) => `output ${id} → ${target}`),
        ),
      ];
      expect(naming.filter((line) => conditional.has(line.split(' → ')[1]!))).toEqual([]);
    },
  );

  it('asleep (Awake=false), the network has no interface endpoint and keeps everything else', () => {
    const awake = shapeWhen('true', network, env, names.network);
    const asleep = shapeWhen('false', network, env, names.network);
    expect(Object.keys(awake).sort()).toEqual(Object.keys(network.Resources).sort());
    expect(Object.values(awake).filter(isInterfaceEndpoint).length).toBeGreaterThan(0);
    expect(Object.values(asleep).filter(isInterfaceEndpoint)).toEqual([]);
    const kept = Object.keys(awake).filter((id) => !isInterfaceEndpoint(awake[id]!));
    expect(Object.keys(asleep).sort()).toEqual(kept.sort());
    // What stays: the VPC and its subnets, the S3 gateway, the groups, the flow logs, the key, the role.
    const keptTypes = new Set(Object.values(asleep).map((resource) => resource.Type));
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::EC2::Subnet',
      'AWS::EC2::VPCEndpoint', // the S3 gateway
      'AWS::EC2::SecurityGroup',
      'AWS::EC2::FlowLog',
      'AWS::Logs::LogGroup',
      'AWS::KMS::Key',
      'AWS::IAM::Role',
    ]) {
      expect([type, keptTypes.has(type)]).toEqual([type, true]);
    }
    expect(
      Object.values(asleep)
        .filter((resource) => resource.Type === 'AWS::EC2::VPCEndpoint')
        .map((r) => r.Properties.VpcEndpointType),
    ).toEqual(['Gateway']);
  });

  it('asleep (Awake=false), the service runs 0 tasks and keeps everything else; awake, its configured count', () => {
    const awake = shapeWhen('true', service, env, names.service);
    const asleep = shapeWhen('false', service, env, names.service);
    expect(Object.keys(asleep)).toEqual(Object.keys(service.Resources));
    const desired = (shape: typeof awake) =>
      Object.values(shape)
        .filter((resource) => resource.Type === 'AWS::ECS::Service')
        .map((resource) => resource.Properties.DesiredCount);
    expect(desired(awake)).toEqual([env.task.desiredCount]);
    expect(desired(asleep)).toEqual([0]);
    // Nothing but the count differs between the two shapes.
    for (const id of Object.keys(awake)) {
      const { DesiredCount: _awakeCount, ...awakeRest } = awake[id]!.Properties;
      const { DesiredCount: _asleepCount, ...asleepRest } = asleep[id]!.Properties;
      expect([id, asleepRest]).toEqual([id, awakeRest]);
    }
  });

  it("records the environment's schedule, when it has one, in both templates and on each resource that sleeps", () => {
    const recorded = env.schedule === undefined ? undefined : scheduleMetadata(env.schedule);
    for (const template of [network, service]) {
      expect(template.Metadata?.[SCHEDULE_METADATA_KEY]).toEqual(recorded);
      for (const resource of Object.values(template.Resources)) {
        const sleeps = isInterfaceEndpoint(resource) || resource.Type === 'AWS::ECS::Service';
        expect([resource.Type, resource.Metadata?.[SCHEDULE_METADATA_KEY]]).toEqual([
          resource.Type,
          sleeps ? recorded : undefined,
        ]);
      }
    }
  });
});

describe('the schedule in the templates', () => {
  const schedule: Schedule = { days: ['Sat', 'Sun'], start: '10:00', end: '16:30', timeZone: 'Europe/Paris' };

  it('is recorded with its weekly hours when configured', () => {
    const { network, service } = synthesize(environment(FIRST.name, { schedule }));
    for (const template of [json(network), json(service)]) {
      expect(template.Metadata?.[SCHEDULE_METADATA_KEY]).toEqual({ ...schedule, awakeHoursPerWeek: 13 });
    }
  });

  it('is absent without one, while the Awake switch is there all the same', () => {
    const { network, service } = synthesize(environment(FIRST.name, { schedule: undefined }));
    for (const template of [json(network), json(service)]) {
      expect(JSON.stringify(template)).not.toContain(SCHEDULE_METADATA_KEY);
      expect(template.Parameters?.[AWAKE_PARAMETER]).toBeDefined();
    }
  });
});
