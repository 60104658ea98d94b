import { readFileSync } from 'node:fs';

const CDK_JSON = new URL('../../cdk.json', import.meta.url);

/**
 * The feature flags and context of cdk.json, for apps built in-process (tests, `npm run synth`,
 * the actions), so they synthesize exactly what `cdk synth` synthesizes.
 */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(CDK_JSON, 'utf8')) as { context: Record<string, unknown> }).context;
}
