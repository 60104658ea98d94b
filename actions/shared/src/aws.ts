import type { AwsCredentialIdentity } from '@aws-sdk/types';

/**
 * Options for every AWS SDK client of the actions. The SDK's own retries are off (one attempt):
 * the actions retry through `retry()`, so every retry is bounded the same way and logged. The
 * endpoint comes from AWS_ENDPOINT_URL(_<SERVICE>) when set, as the SDK reads it itself.
 */
export function awsClientConfig(options: {
  readonly region: string;
  readonly credentials?: AwsCredentialIdentity;
  readonly action: string;
}): { region: string; credentials?: AwsCredentialIdentity; maxAttempts: number; customUserAgent: string } {
  return {
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 1,
    customUserAgent: `private-aws-gitops/${options.action}`,
  };
}
