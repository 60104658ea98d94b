/**
 * Bundling the cdk action without the AWS service spec database: an esbuild plugin that hands
 * `@aws-cdk/cloudformation-diff` a stand-in for `@aws-cdk/aws-service-spec`, and the table the
 * stand-in reads, written next to the bundle. Why: see actions/cdk/src/resource-models.ts.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import {
  RESOURCE_MODELS_FILE,
  compactResourceModels,
  type ResourceModel,
} from '../../actions/cdk/src/resource-models.js';

const NAMESPACE = 'resource-model-table';
const STAND_IN = fileURLToPath(new URL('../../actions/cdk/src/resource-models.ts', import.meta.url));
const DIFF_FILE = /[\\/]node_modules[\\/]@aws-cdk[\\/]cloudformation-diff[\\/]/;

export const resourceModelTable: Plugin = {
  name: 'resource-model-table',
  setup(build) {
    build.onResolve({ filter: /^@aws-cdk\/aws-service-spec$/ }, (args) => {
      if (!DIFF_FILE.test(args.importer)) {
        return {
          errors: [
            {
              text:
                `${args.importer} requires @aws-cdk/aws-service-spec, which the bundle replaces for ` +
                '@aws-cdk/cloudformation-diff only: extend scripts/lib/resource-model-table.ts to that use.',
            },
          ],
        };
      }
      return { path: 'stand-in', namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, () => ({
      contents: [
        "const { join } = require('node:path');",
        `const { resourceModelDatabase } = require(${JSON.stringify(STAND_IN)});`,
        "// __dirname: the bundle's directory, where writeResourceModelTable puts the table.",
        `exports.loadAwsServiceSpecSync = () => resourceModelDatabase(join(__dirname, ${JSON.stringify(RESOURCE_MODELS_FILE)}));`,
      ].join('\n'),
      loader: 'js',
      resolveDir: join(STAND_IN, '..'),
    }));
  },
};

/** Writes the table from the installed service spec database into `outdir`; returns its path. */
export function writeResourceModelTable(outdir: string): string {
  const file = join(outdir, RESOURCE_MODELS_FILE);
  writeFileSync(file, `${JSON.stringify(compactResourceModels(serviceSpecResources()))}\n`);
  return file;
}

/** Every resource of the installed `@aws-cdk/aws-service-spec` database (1.2 s to load). */
export function serviceSpecResources(): ResourceModel[] {
  const require = createRequire(import.meta.url);
  const spec = require('@aws-cdk/aws-service-spec') as {
    loadAwsServiceSpecSync(): { all(entity: 'resource'): ResourceModel[] };
  };
  return spec.loadAwsServiceSpecSync().all('resource');
}
