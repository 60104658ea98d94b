/**
 * What the administrator's seeding of the image cache leaves in ECR (docs/setup.md, "Seed the image
 * cache"): the repository the pull-through cache rule creates, holding the environment's tag. moto
 * has no pull-through cache, so the image is put there directly; a manifest with no layers stands
 * for it. The deploy's preflight (actions/cdk image-cache-check.ts) refuses a deploy without it.
 */
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import type { EnvironmentConfig } from '../../infra/lib/config.js';
import { cachedRepositoryName } from '../../infra/lib/image-cache.js';
import { motoClientConfig, type LocalAws } from './moto.js';

const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: {
    mediaType: 'application/vnd.docker.container.image.v1+json',
    size: 2,
    digest: `sha256:${'0'.repeat(64)}`, // a stand-in: nothing pulls it
  },
  layers: [],
});

/** Seeds `tag` (the configured one by default) of the environment's cached image; a no-op for an `ecr` image. */
export async function seedImageCache(
  aws: LocalAws,
  environment: Pick<EnvironmentConfig, 'image'>,
  tag?: string,
): Promise<void> {
  const { image } = environment;
  if (image.kind !== 'pull-through-cache') return;
  const ecr = new ECRClient(motoClientConfig(aws));
  const repositoryName = cachedRepositoryName(image);
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
  } catch (error) {
    if ((error as Error).name !== 'RepositoryAlreadyExistsException') throw error;
  }
  await ecr.send(new PutImageCommand({ repositoryName, imageManifest: MANIFEST, imageTag: tag ?? image.tag }));
  ecr.destroy();
}
