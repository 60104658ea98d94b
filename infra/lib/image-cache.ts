/**
 * The ECR pull-through cache of an environment's image (`image.kind: 'pull-through-cache'`): where
 * the cached image lives, and how to seed it from outside the VPC.
 *
 * The first pull of an image through a cache rule cannot be made from these subnets: "When an
 * image is pulled using a pull through cache rule for the first time, if you've configured Amazon
 * ECR to use an interface VPC endpoint using AWS PrivateLink then you need to create a public
 * subnet in the same VPC, with a NAT gateway [...] Subsequent image pulls don't require this"
 * (Amazon ECR User Guide, "Amazon ECR interface VPC endpoints (AWS PrivateLink)", considerations;
 * read 2026-12-02). This VPC has no NAT gateway by design, so each tag is pulled once from a
 * machine with internet access before the tasks need it.
 */
import type { ImageSource } from './config.js';

/** ECR Public, as the upstream of a pull-through cache rule. */
export const ECR_PUBLIC = { url: 'public.ecr.aws', registry: 'ecr-public' } as const;

export type PullThroughCacheImage = Extract<ImageSource, { kind: 'pull-through-cache' }>;

/**
 * The key of the task definition's template metadata that names the image its tasks pull through
 * the cache rule, for readers that see only the cloud assembly (the deploy's preflight, actions/cdk).
 */
export const CACHED_IMAGE_METADATA_KEY = 'gitops:cached-image';

/** The task definition's template metadata: the image to seed, as the configuration gives it. */
export function cachedImageMetadata(image: PullThroughCacheImage): PullThroughCacheImage {
  return {
    kind: image.kind,
    upstreamRepository: image.upstreamRepository,
    tag: image.tag,
    repositoryPrefix: image.repositoryPrefix,
  };
}

/** The private repository the cache rule creates for the image: `<prefix>/<upstream repository>`. */
export function cachedRepositoryName(image: PullThroughCacheImage): string {
  return `${image.repositoryPrefix}/${image.upstreamRepository}`;
}

/** The image's URI in the account's private registry, as the task pulls it. */
export function cachedImageUri(image: PullThroughCacheImage, account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com/${cachedRepositoryName(image)}:${image.tag}`;
}

/**
 * Commands that put the image in the cache from a machine with internet access and Docker, as an
 * administrator of the account: before the first deploy, the cache rule does not exist yet (the
 * service stack creates it), so they create it for the pull and delete it again, leaving the
 * cached repository for the stack's rule to take over; later, with the stack's rule in place, the
 * pull alone seeds a new tag.
 */
export function cacheSeedCommands(
  image: PullThroughCacheImage,
  account: string,
  region: string,
  ruleExists: boolean,
): string[] {
  const registry = `${account}.dkr.ecr.${region}.amazonaws.com`;
  const prefix = `--ecr-repository-prefix ${image.repositoryPrefix} --region ${region}`;
  const pull = [
    `aws ecr get-login-password --region ${region} | docker login --username AWS --password-stdin ${registry}`,
    `docker pull ${cachedImageUri(image, account, region)}`,
  ];
  if (ruleExists) return pull;
  return [
    `aws ecr create-pull-through-cache-rule ${prefix} --upstream-registry-url ${ECR_PUBLIC.url}`,
    ...pull,
    `aws ecr delete-pull-through-cache-rule ${prefix}`,
  ];
}
