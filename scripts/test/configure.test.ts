import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseProjectFile, type ProjectFile } from '../../infra/lib/config.js';
import { repositoryCopy } from '../../test/helpers/work-copy.js';
import { applyOptions, nextSteps } from '../lib/configure-options.js';

const CURRENT: ProjectFile = {
  github: { owner: 'old-org', repo: 'old-repo', ownerId: '1', repoId: '2', mainBranch: 'main' },
  environments: [
    { name: 'dev', account: '111111111111', region: 'eu-central-1', vpcCidr: '10.10.0.0/22', azCount: 1 },
    { name: 'canary', account: '111111111111', region: 'eu-central-1', vpcCidr: '10.20.0.0/22' },
  ],
};

describe('npm run configure: the options applied to the configuration file', () => {
  it('replaces the environments in the given order, keeping the settings of the ones it keeps', () => {
    const next = applyOptions(CURRENT, {
      environments: ['canary=222222222222', 'blue=222222222222:us-west-2'],
      region: 'eu-west-1',
    });
    expect(next.environments).toEqual([
      { name: 'canary', account: '222222222222', region: 'eu-west-1', vpcCidr: '10.20.0.0/22' },
      { name: 'blue', account: '222222222222', region: 'us-west-2', vpcCidr: '10.10.0.0/22' },
    ]);
    expect(() => parseProjectFile(next)).not.toThrow();
  });

  it('gives a new environment the next free range, or the one --cidr names', () => {
    const next = applyOptions(CURRENT, {
      environments: ['dev=111111111111', 'canary=111111111111', 'prod=111111111111'],
      cidrs: ['canary=172.20.8.0/22'],
    });
    expect(next.environments.map((env) => env.vpcCidr)).toEqual(['10.10.0.0/22', '172.20.8.0/22', '10.20.0.0/22']);
    expect(next.environments[0]).toMatchObject({ azCount: 1 }); // kept
  });

  it('drops the old repository ids when the repository changes without new ids, keeps them otherwise', () => {
    expect(applyOptions(CURRENT, { owner: 'new-org' }).github).toEqual({
      owner: 'new-org',
      repo: 'old-repo',
      mainBranch: 'main',
    });
    expect(applyOptions(CURRENT, { region: 'eu-west-1' }).github).toMatchObject({ ownerId: '1', repoId: '2' });
    expect(applyOptions(CURRENT, { owner: 'o', repo: 'r', ownerId: '7', repoId: '8' }).github).toMatchObject({
      owner: 'o',
      repo: 'r',
      ownerId: '7',
      repoId: '8',
    });
  });

  it('moves every environment to --region when no --environment is given', () => {
    expect(applyOptions(CURRENT, { region: 'ap-southeast-2' }).environments.map((env) => env.region)).toEqual([
      'ap-southeast-2',
      'ap-southeast-2',
    ]);
  });

  it.each([
    [['dev'], /--environment dev: expected NAME=ACCOUNT\[:REGION\]/],
    [['dev=12'], /expected a 12-digit account after '=', found '12'/],
    [['dev=111111111111:mars-1'], /expected an AWS region such as eu-west-1, found 'mars-1'/],
  ])('refuses --environment %j with what it expected', (environments, message) => {
    expect(() => applyOptions(CURRENT, { environments })).toThrow(message);
    expect(() => applyOptions(CURRENT, { environments })).toThrow(ConfigError);
  });

  it('refuses a --cidr for an environment that is not there', () => {
    expect(() => applyOptions(CURRENT, { cidrs: ['prod=10.0.0.0/22'] })).toThrow(/no environment named 'prod'/);
  });

  it('prints, per environment, the variables and the exact set-up commands', () => {
    const text = nextSteps(parseProjectFile(CURRENT));
    expect(text).toContain('export ENV=dev ACCOUNT=111111111111 REGION=eu-central-1 QUALIFIER=dev');
    expect(text).toContain('npx cdk deploy --app cdk.out dev-foundation --method=direct --require-approval never');
    expect(text).toContain(
      'npx cdk bootstrap --app cdk.out aws://111111111111/eu-central-1 --qualifier canary --toolkit-stack-name canary-cdk-bootstrap',
    );
  });

  it("prints the commands that seed each environment's pull-through cache, and none for an image of its own repository", () => {
    const project = parseProjectFile({
      ...CURRENT,
      environments: [
        { ...CURRENT.environments[0]!, image: { kind: 'ecr', repositoryName: 'team/web', tag: '3.1' } },
        {
          ...CURRENT.environments[1]!,
          image: {
            kind: 'pull-through-cache',
            upstreamRepository: 'nginx/nginx',
            tag: '1.29-alpine',
            repositoryPrefix: 'canary-mirror',
          },
        },
      ],
    });
    const text = nextSteps(project);
    const registry = '111111111111.dkr.ecr.eu-central-1.amazonaws.com';
    const seed = [
      'aws ecr create-pull-through-cache-rule --ecr-repository-prefix canary-mirror --region eu-central-1 --upstream-registry-url public.ecr.aws',
      `aws ecr get-login-password --region eu-central-1 | docker login --username AWS --password-stdin ${registry}`,
      `docker pull ${registry}/canary-mirror/nginx/nginx:1.29-alpine`,
      'aws ecr delete-pull-through-cache-rule --ecr-repository-prefix canary-mirror --region eu-central-1',
    ];
    const lines = text.split('\n').map((line) => line.trim());
    const at = lines.indexOf(seed[0]!);
    expect(at).toBeGreaterThan(
      lines.indexOf('export ENV=canary ACCOUNT=111111111111 REGION=eu-central-1 QUALIFIER=canary'),
    );
    expect(lines.slice(at, at + seed.length)).toEqual(seed);
    // dev runs an image of its own repository: nothing to seed.
    expect(text.match(/docker pull/g)).toHaveLength(1);
    expect(text).not.toContain('team/web');
  });
});

describe('npm run configure, as a command', () => {
  const copy = repositoryCopy();
  afterAll(() => copy.remove());
  const configure = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/configure.ts', ...args], {
      cwd: copy.dir,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
  const file = () => readFileSync(join(copy.dir, 'gitops.config.json'), 'utf8');
  const codeOwners = () => readFileSync(join(copy.dir, '.github/CODEOWNERS'), 'utf8');

  it('writes a valid, formatted file, and refuses an invalid one without touching the file', () => {
    const written = configure(
      '--owner',
      'acme',
      '--repo',
      'live',
      '--region',
      'eu-west-1',
      '--environment',
      'stage=210987654321',
      '--environment',
      'prod=210987654321',
    );
    expect([written.status, written.stderr]).toEqual([0, '']);
    expect(written.stdout).toContain('Wrote gitops.config.json and .github/CODEOWNERS.');
    const content = file();
    expect(JSON.parse(content)).toMatchObject({ github: { owner: 'acme', repo: 'live' } });
    // A new owner: the old owner's code owners go, the new owner is the default.
    expect(JSON.parse(content).github.codeOwners).toBeUndefined();
    expect(codeOwners()).toMatch(/^\/infra\/ +@acme$/m);
    expect(content.endsWith('\n')).toBe(true);

    const refused = configure('--environment', 'a=210987654321', '--environment', 'a-b=210987654321');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("a-b.name: expected a name that does not start with another environment's name");
    expect(file()).toBe(content);
  });

  it('writes the code owners it is given to .github/CODEOWNERS, and refuses a malformed one', () => {
    const written = configure('--code-owner', '@acme/platform', '--code-owner', '@alice');
    expect([written.status, written.stderr]).toEqual([0, '']);
    expect(JSON.parse(file()).github.codeOwners).toEqual(['@acme/platform', '@alice']);
    for (const path of ['/.github/', '/actions/', '/infra/', '/gitops.config.json'])
      expect(codeOwners()).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')} +@acme/platform @alice$`, 'm'));
    const before = codeOwners();
    const refused = configure('--code-owner', 'acme/platform');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('github.codeOwners: expected a @user or @org/team name, found "acme/platform"');
    expect(codeOwners()).toBe(before);
  });

  it('changes nothing with --dry-run', () => {
    const before = file();
    const dry = configure('--dry-run', '--region', 'us-east-2');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('Dry run');
    expect(file()).toBe(before);
  });
});
