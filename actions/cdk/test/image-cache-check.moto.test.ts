import { ECRClient } from '@aws-sdk/client-ecr';
import type { PullThroughCacheImage } from '../../../infra/lib/image-cache.js';
import { cacheSeedCommands, CACHED_IMAGE_METADATA_KEY } from '../../../infra/lib/image-cache.js';
import { environment, FIRST, synthesize } from '../../../infra/test/helpers/app.js';
import { seedImageCache } from '../../../test/helpers/image-cache.js';
import { motoClientConfig, startMoto, type LocalAws } from '../../../test/helpers/moto.js';
import { UserInputError } from '../../shared/src/errors.js';
import type { SelectedStack } from '../src/commands.js';
import { cachedImages, checkCachedImages, type CachedImage } from '../src/image-cache-check.js';

// A cached image of its own (not the configuration's), so that every case runs whatever the
// configuration's image is.
const IMAGE: PullThroughCacheImage = {
  kind: 'pull-through-cache',
  upstreamRepository: 'nginx/nginx',
  tag: '1.29.1-alpine',
  repositoryPrefix: `${FIRST.name}-preflight`,
};

function serviceStack(
  image: PullThroughCacheImage | { kind: 'ecr'; repositoryName: string; tag: string },
): SelectedStack {
  const config = environment(FIRST.name, { image });
  const template = synthesize(config).service.toJSON() as SelectedStack['template'];
  return {
    stackName: `${config.name}-service`,
    account: config.account,
    region: config.region,
    resources: 0,
    template,
  };
}

describe('the deploy preflight: reading the cached image from the cloud assembly', () => {
  it("finds the image the service's cache rule serves, from the rule's metadata", () => {
    const stack = serviceStack(IMAGE);
    expect(cachedImages([stack])).toEqual([
      { stackName: stack.stackName, account: stack.account, region: stack.region, image: IMAGE },
    ]);
  });

  it('finds none for an image of its own repository', () => {
    expect(cachedImages([serviceStack({ kind: 'ecr', repositoryName: 'team/web', tag: '3.1' })])).toEqual([]);
  });

  it('refuses unreadable metadata, or a cache rule whose image no task definition names, saying how to fix it', () => {
    const stack = serviceStack(IMAGE);
    const resources = stack.template.Resources as Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
    const definition = Object.values(resources).find((resource) => resource.Type === 'AWS::ECS::TaskDefinition')!;
    definition.Metadata = {
      ...definition.Metadata,
      [CACHED_IMAGE_METADATA_KEY]: { kind: 'pull-through-cache', tag: '1' },
    };
    expect(() => cachedImages([stack])).toThrow(UserInputError);
    expect(() => cachedImages([stack])).toThrow(
      /unreadable gitops:cached-image metadata .*synthesize the cloud assembly again/,
    );
    delete definition.Metadata[CACHED_IMAGE_METADATA_KEY];
    expect(() => cachedImages([stack])).toThrow(
      /has a pull-through cache rule, but no task definition names its image/,
    );
  });
});

describe('the deploy preflight against ECR (moto)', () => {
  let aws: LocalAws;
  let ecr: ECRClient;
  let cached: CachedImage;

  beforeAll(async () => {
    aws = await startMoto();
    ecr = new ECRClient(motoClientConfig(aws));
    cached = { stackName: `${FIRST.name}-service`, account: aws.account, region: aws.region, image: IMAGE };
  }, 120_000);

  afterAll(async () => {
    ecr?.destroy();
    await aws?.stop();
  });

  const refusal = async (): Promise<string> => {
    const error = await checkCachedImages([cached], ecr).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UserInputError);
    return (error as Error).message;
  };

  it('refuses an image never seeded, with the commands that create the rule for the pull and delete it again', async () => {
    const message = await refusal();
    expect(message).toContain(`${FIRST.name}-preflight/nginx/nginx`);
    expect(message).toContain('Nothing was deployed');
    for (const command of cacheSeedCommands(IMAGE, aws.account, aws.region, false)) expect(message).toContain(command);
  });

  it('refuses a tag the cache does not hold yet, with the pull alone (the rule exists then)', async () => {
    await seedImageCache(aws, { image: IMAGE }, '1.28.0-alpine');
    const message = await refusal();
    expect(message).toContain(`the cache holds no ${IMAGE.tag}`);
    for (const command of cacheSeedCommands(IMAGE, aws.account, aws.region, true)) expect(message).toContain(command);
    expect(message).not.toContain('create-pull-through-cache-rule');
  });

  it('lets the deploy go on once the cache holds the tag', async () => {
    await seedImageCache(aws, { image: IMAGE });
    await expect(checkCachedImages([cached], ecr)).resolves.toBeUndefined();
  });
});
