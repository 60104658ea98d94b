/**
 * An esbuild plugin that defers the loading of the AWS SDK clients @aws-cdk/toolkit-lib requires
 * until the toolkit first uses one.
 *
 * Why: the toolkit's SDK wrapper (`lib/api/aws-auth/sdk.js`) requires twenty SDK clients at load
 * time (EC2, AppSync, Bedrock AgentCore, Route 53, ...), most of them only for context lookups and
 * hotswap, which the cdk action never does. Initialising them is most of the cdk action's start-up
 * (a CPU profile of `node dist/index.cjs`: about 0.6 s of 1.3 s in module initialisation), paid on
 * every run of the action. The toolkit is compiled TypeScript that reads a client's exports only
 * when it calls them (`(0, client_ec2_1.DescribeVpcsCommand)(...)`), so handing it a proxy that
 * loads the real module on first property access keeps its behaviour and skips the unused clients.
 *
 * Only `require()` calls from inside @aws-cdk/toolkit-lib are deferred; the actions' own imports of
 * SDK clients are bundled as usual.
 */
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const NAMESPACE = 'lazy-sdk-client';
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const TOOLKIT_FILE = /[\\/]node_modules[\\/]@aws-cdk[\\/]/;

/** The module that stands in for one client: a proxy over the real module, loaded on first use. */
export function lazyModuleSource(realPath: string): string {
  const path = JSON.stringify(realPath);
  return `let loaded;
const load = () => (loaded ??= require(${path}));
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const descriptor = Object.getOwnPropertyDescriptor(load(), key);
    return descriptor && { ...descriptor, configurable: true };
  },
});
`;
}

export const lazySdkClients: Plugin = {
  name: 'lazy-sdk-clients',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/(client-|lib-storage$)/ }, async (args) => {
      // The proxy's own require resolves normally (it carries this namespace's marker).
      if (args.pluginData === NAMESPACE) return undefined;
      if (args.kind !== 'require-call' || !TOOLKIT_FILE.test(args.importer)) return undefined;
      const real = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: NAMESPACE,
      });
      if (real.errors.length > 0) return { errors: real.errors };
      // Named by its path from the repository (the bundle's comments show it; no absolute paths in dist/).
      return { path: relative(REPOSITORY, real.path), namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const real = resolve(REPOSITORY, args.path);
      return { contents: lazyModuleSource(real), loader: 'js', resolveDir: dirname(real), pluginData: NAMESPACE };
    });
  },
};
