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
import { COMMENT_LIMIT, commentMarker, fitReport, renderReport, smallerReports } from '../src/render.js';
import { buildReport, destructiveChanges, hasChanges, type DiffReport } from '../src/report.js';

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
    expectGolden('additions', body);
  });

  it('a replacement: a bigger task replaces the task definition and is destructive', () => {
    const r = report(baseline, base({ task: { cpu: 512, memoryMiB: 1024 } }));
    expect(destructiveChanges(r)).toEqual([
      expect.objectContaining({
        stack: SERVICE,
        type: 'AWS::ECS::TaskDefinition',
        kind: 'replacement',
        path: `${SERVICE}/Nginx/TaskDefinition/Resource`,
      }),
    ]);
    const body = fitReport(r);
    expect(body).toContain('> [!CAUTION]');
    expect(body).toContain(`adds the \`${ALLOW_DESTRUCTIVE_LABEL}\` label`);
    expectGolden('replacement', body);
  });

  it('an image-only task definition replacement is expected, not destructive', () => {
    const r = report(
      baseline,
      base({
        image: { ...defaultImage(ENV), tag: '1.29-alpine' } as EnvironmentEntry['image'],
      }),
    );
    const rows = r.stacks.flatMap((s) => s.rows).filter((row) => row.type === 'AWS::ECS::TaskDefinition');
    expect(rows).toEqual([expect.objectContaining({ action: 'replace', expected: expect.stringContaining('image') })]);
    expect(destructiveChanges(r)).toEqual([]);
    const body = fitReport(r);
    expect(body).toContain('[!NOTE]');
    expect(body).not.toContain('[!CAUTION]');
    expectGolden('image-change', body);
  });

  it('a removal: dropping the debug endpoints lists each removed endpoint', () => {
    const r = report(base({ ec2DebugEndpoints: true }), baseline, { allowed: true });
    const removed = destructiveChanges(r);
    expect(removed).toHaveLength(2);
    expect(removed.every((change) => change.kind === 'removal' && change.type === 'AWS::EC2::VPCEndpoint')).toBe(true);
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
    expect(body).toContain('s3:GetObject');
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
    expect(body).toContain(GOLDEN_ENTRY.vpcCidr);
    expectGolden('security-group', body);
  });

  it('a huge diff degrades step by step and stays under the limit, keeping the summary and destructive list', () => {
    const after = templates(goldenEnvironment({ task: { cpu: 512, memoryMiB: 1024 } }), (stacks) => {
      for (let i = 0; i < 480; i++) {
        new ssm.StringParameter(stacks.service, `Setting${i}`, {
          parameterName: `/${ENV}/settings/a-rather-long-parameter-name-to-make-the-diff-big/${i}`,
          stringValue: `value-${i}-${'x'.repeat(1000)}`,
        });
      }
    });
    const r = report(baseline, after);
    const full = renderReport(r, 'full');
    expect(full.length).toBeGreaterThan(COMMENT_LIMIT);
    const body = fitReport(r);
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toContain(commentMarker(ENV));
    expect(body).toContain(`| \`${SERVICE}\` | 480 | 0 | 0 | 1 |`);
    expect(body).toContain('`NginxTaskDefinition60F15C8B`');
    expect(body).toContain('raw diffs omitted');
    // Tighter still: per-resource rows go next; the summary and destructive list stay.
    const tight = fitReport(r, 6_000);
    expect(tight.length).toBeLessThanOrEqual(6_000);
    expect(tight).toContain('per-resource rows omitted');
    expect(tight).not.toContain('`Setting0');
    expect(tight).toContain(`| \`${SERVICE}\` | replacement | \`AWS::ECS::TaskDefinition\` |`);
    // Each fallback is no longer than the one before, and all keep the marker.
    const bodies = [...smallerReports(r)];
    expect(bodies.length).toBeGreaterThan(1);
    for (let i = 1; i < bodies.length; i++) expect(bodies[i]!.length).toBeLessThanOrEqual(bodies[i - 1]!.length);
    for (const candidate of bodies) expect(candidate).toContain(commentMarker(ENV));
    expectGolden('huge', body);
  });
});
