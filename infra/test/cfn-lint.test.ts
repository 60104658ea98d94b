import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { cfnLint } from '../../test/helpers/cfn-lint.js';
import { addEnvironments } from '../lib/build-app.js';
import { oidcProviderAccounts, resolveEnvironments, type EnvironmentConfig } from '../lib/config.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { enforceNag } from '../lib/nag.js';
import { cdkJsonContext, environment, FIRST } from './helpers/app.js';

describe('cfn-lint on every synthesized template', () => {
  const outdirs: string[] = [];
  afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  const synthTo = (configs: readonly EnvironmentConfig[]): string[] => {
    const outdir = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
    outdirs.push(outdir);
    const app = new App({ outdir, context: cdkJsonContext() });
    addEnvironments(app, configs);
    enforceNag(app);
    app.synth();
    return readdirSync(outdir)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => join(outdir, file));
  };

  /** Network, service and foundation per environment, plus one provider stack per account that needs it. */
  const templateCount = (configs: readonly EnvironmentConfig[]): number =>
    configs.length * 3 + oidcProviderAccounts(configs).filter((account) => !account.exists).length;

  it.each<[string, () => EnvironmentConfig[]]>([
    ['all configured environments', () => resolveEnvironments(ENVIRONMENTS)],
    [
      `${FIRST.name} with its own provider stack and the immutable subject format`,
      () => [environment(FIRST.name, { github: { oidcProviderExists: false, ownerId: '9919', repoId: '123456' } })],
    ],
    [
      `${FIRST.name} with the options: 1 AZ, X86_64 Spot, debug endpoints, existing provider, own qualifier`,
      () => [
        environment(FIRST.name, {
          azCount: 1,
          ec2DebugEndpoints: true,
          task: { architecture: 'X86_64', spot: true, cpu: 512, memoryMiB: 1024 },
          github: { oidcProviderExists: true },
          bootstrapQualifier: 'lintq1',
        }),
      ],
    ],
    [
      `${FIRST.name} with 3 AZs and an ECR image pinned by digest`,
      () => [
        environment(FIRST.name, {
          azCount: 3,
          image: { kind: 'ecr', repositoryName: 'team/nginx', digest: `sha256:${'ab'.repeat(32)}` },
        }),
      ],
    ],
  ])('%s: 0 errors, 0 warnings', (_name, configs) => {
    const resolved = configs();
    const templates = synthTo(resolved);
    expect(templates).toHaveLength(templateCount(resolved));
    const result = cfnLint(templates);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
