import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { cfnLint } from '../../test/helpers/cfn-lint.js';
import { addEnvironments } from '../lib/build-app.js';
import { resolveEnvironments } from '../lib/config.js';
import { ENVIRONMENTS } from '../lib/project.js';
import { enforceNag } from '../lib/nag.js';
import { cdkJsonContext, environment } from './helpers/app.js';

describe('cfn-lint on every synthesized template', () => {
  const outdirs: string[] = [];
  afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  const synthTo = (configs: Parameters<typeof addEnvironments>[1]): string[] => {
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

  it.each([
    ['all environments, account-agnostic', () => resolveEnvironments(ENVIRONMENTS, {})],
    ['all environments, with an account', () => resolveEnvironments(ENVIRONMENTS, { account: '111122223333' })],
    [
      'the options: 1 AZ, X86_64 Spot, debug endpoints, existing provider',
      () => [
        environment(
          'dev',
          {
            azCount: 1,
            ec2DebugEndpoints: true,
            task: { architecture: 'X86_64', spot: true, cpu: 512, memoryMiB: 1024 },
            github: {
              existingOidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
            },
          },
          '111122223333',
        ),
      ],
    ],
  ])('%s: 0 errors, 0 warnings', (_name, configs) => {
    const templates = synthTo(configs());
    expect(templates.length).toBeGreaterThanOrEqual(3);
    const result = cfnLint(templates);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
