/**
 * The deploy's image preflight: a service whose image comes through an ECR pull-through cache rule
 * deploys only when the cache already holds the tag. The tasks cannot make a tag's first pull
 * through the VPC's interface endpoints (infra/lib/image-cache.ts cites the ECR User Guide): their
 * deployment would fail after the circuit breaker's wait and roll back. Checked before any change,
 * so the deploy stops at once with the commands that seed the cache.
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import {
  CACHED_IMAGE_METADATA_KEY,
  cacheSeedCommands,
  cachedRepositoryName,
  type PullThroughCacheImage,
} from '../../../infra/lib/image-cache.js';
import { awsErrorName, UserInputError, withOperation } from '../../shared/src/errors.js';
import type { SelectedStack } from './commands.js';

/**
 * What a field of a cached image may hold: ECR's characters for repository names and tags
 * (config.ts validates each more strictly). Nothing a shell would read as syntax, so the seed
 * commands built from them can be printed, even from a pull request's own template, and pasted.
 */
const IMAGE_FIELD = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/;

/** The image a task definition resource names in its metadata, if any (undefined when unreadable too). */
export function cachedImageOf(resource: unknown): PullThroughCacheImage | undefined {
  const { Type, Metadata } = (resource ?? {}) as { Type?: string; Metadata?: Record<string, unknown> };
  return Type === 'AWS::ECS::TaskDefinition' ? readableImage(Metadata?.[CACHED_IMAGE_METADATA_KEY]) : undefined;
}

/** `candidate` as a cached image whose every field matches IMAGE_FIELD, or undefined. */
export function readableImage(candidate: unknown): PullThroughCacheImage | undefined {
  const image = candidate as Partial<PullThroughCacheImage> | undefined;
  if (image?.kind !== 'pull-through-cache') return undefined;
  const fields = [image.upstreamRepository, image.tag, image.repositoryPrefix];
  if (!fields.every((field) => typeof field === 'string' && IMAGE_FIELD.test(field))) return undefined;
  return {
    kind: 'pull-through-cache',
    upstreamRepository: image.upstreamRepository!,
    tag: image.tag!,
    repositoryPrefix: image.repositoryPrefix!,
  };
}

/** An image a stack's tasks pull through its cache rule. */
export interface CachedImage {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly image: PullThroughCacheImage;
}

/**
 * The cached images of the selected stacks, from their task definitions' metadata
 * (nginx-service.ts). A stack with a cache rule and no such metadata comes from an older assembly.
 */
export function cachedImages(stacks: readonly SelectedStack[]): CachedImage[] {
  return stacks.flatMap((stack) => {
    const resources = Object.values(stack.template.Resources ?? {}) as Array<{
      Type?: string;
      Metadata?: Record<string, unknown>;
    }>;
    const found = resources.flatMap((resource) => {
      if (resource.Type !== 'AWS::ECS::TaskDefinition' || resource.Metadata?.[CACHED_IMAGE_METADATA_KEY] === undefined)
        return [];
      const image = cachedImageOf(resource);
      if (!image) {
        throw new UserInputError(
          `${stack.stackName}'s task definition carries unreadable ${CACHED_IMAGE_METADATA_KEY} metadata ` +
            `(found ${JSON.stringify(resource.Metadata[CACHED_IMAGE_METADATA_KEY])}): synthesize the cloud assembly again with this repository's CDK app.`,
        );
      }
      return [{ stackName: stack.stackName, account: stack.account, region: stack.region, image }];
    });
    if (found.length === 0 && resources.some(({ Type }) => Type === 'AWS::ECR::PullThroughCacheRule')) {
      throw new UserInputError(
        `${stack.stackName} has a pull-through cache rule, but no task definition names its image in ` +
          `${CACHED_IMAGE_METADATA_KEY} metadata: synthesize the cloud assembly again with this repository's CDK app.`,
      );
    }
    return found;
  });
}

/** Whether the cache holds the image: 'cached', or what is missing ('repository': never seeded). */
async function cacheState(ecr: ECRClient, cached: CachedImage): Promise<'cached' | 'repository' | 'tag'> {
  const repositoryName = cachedRepositoryName(cached.image);
  try {
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: cached.image.tag }] }),
    );
    return (imageDetails ?? []).length > 0 ? 'cached' : 'tag';
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'RepositoryNotFoundException') return 'repository';
    if (name === 'ImageNotFoundException') return 'tag';
    throw withOperation(`Looking for ${repositoryName}:${cached.image.tag} in the ECR cache`, error);
  }
}

/**
 * Refuses the deploy, before any change, when a cached image's tag is not in the cache yet, with
 * the commands that put it there (the administrator's, from a machine with internet access).
 */
export async function checkCachedImages(images: readonly CachedImage[], ecr: ECRClient): Promise<void> {
  for (const cached of images) {
    const state = await cacheState(ecr, cached);
    if (state === 'cached') continue;
    const { image, account, region } = cached;
    const what =
      state === 'repository'
        ? `the cache has never held an image of ${cachedRepositoryName(image)}`
        : `the cache holds no ${image.tag} of ${cachedRepositoryName(image)}`;
    // Never seeded: the rule may not exist yet (the first deploy creates it), so the commands
    // create it for the pull and delete it again; with the repository there, the rule is too.
    const commands = cacheSeedCommands(image, account, region, state === 'tag');
    throw new UserInputError(
      `${cached.stackName} runs ${image.upstreamRepository}:${image.tag} through the pull-through cache ${image.repositoryPrefix}, ` +
        `but ${what}. Its tasks could not pull it through the VPC's endpoints (a tag's first pull through a cache rule ` +
        `needs an internet path, ECR User Guide). Nothing was deployed. An administrator of ${account} seeds the cache ` +
        `from a machine with internet access and Docker (docs/setup.md, "Seed the image cache"), then runs this deploy again:\n` +
        commands.map((command) => `  ${command}`).join('\n') +
        (state === 'repository'
          ? '\n(If create-pull-through-cache-rule answers that the rule exists, skip it and the delete.)'
          : ''),
    );
  }
}
