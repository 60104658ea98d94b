import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { TemplateDiff } from '@aws-cdk/cloudformation-diff';
import type {
  CachedCloudAssembly,
  DeploymentMethod,
  DiffMethod,
  ICloudAssemblySource,
  StackParameters,
  StackSelector,
  Toolkit,
} from '@aws-cdk/toolkit-lib';
import { deployableStacks } from '../../../infra/lib/names.js';
import { errorMessage, UserInputError } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import type { BootstrapRequirement } from './bootstrap-check.js';
import type { Inputs } from './inputs.js';
import type { ActionIoHost } from './io-host.js';
import { blockingFindings, readNagReport, type NagFinding, type NagReport } from './nag.js';
import { toolkitLib, type ToolkitLib } from './toolkit-lib.js';

/** What the commands need from outside: the toolkit and its IoHost, a logger, where to run. */
export interface CommandDeps {
  /** The toolkit, created on first use (see toolkit-lib.ts). */
  readonly toolkit: () => Promise<Toolkit>;
  readonly io: ActionIoHost;
  readonly logger: Logger;
  /** The directory with cdk.json (the workspace). */
  readonly cwd: string;
  /** Whether synthesis may ask STS for the default account (false when no credentials exist). */
  readonly resolveDefaultEnvironment: boolean;
}

/** A synthesized (or loaded) assembly and what its validation found. */
export interface Assembly {
  readonly assembly: CachedCloudAssembly;
  readonly directory: string;
  readonly nag: NagReport;
}

/** A stack of the selection, as the reports show it. */
export interface SelectedStack {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly resources: number;
  readonly template: { Parameters?: Record<string, { Default?: unknown }>; Resources?: Record<string, unknown> };
}

/** The stack patterns of a command: the input's, or the environment's defaults. */
export function stackPatterns(inputs: Pick<Inputs, 'command' | 'environment' | 'stacks'>): string[] {
  if (inputs.stacks.length > 0) return [...inputs.stacks];
  // Diff and deploy cover what the workflows deploy; the foundation is the administrator's (and
  // the pull-request role may not read it). Synth covers every stack of the environment.
  return inputs.command === 'synth' ? [`${inputs.environment}-*`] : deployableStacks({ name: inputs.environment });
}

export function stackSelector(
  patterns: readonly string[],
  { StackSelectionStrategy }: Pick<ToolkitLib, 'StackSelectionStrategy'>,
): StackSelector {
  return { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH, patterns: [...patterns] };
}

/** The toolkit's diff method for the `diff-method` input. */
export function diffMethod(method: Inputs['diffMethod'], { DiffMethod }: Pick<ToolkitLib, 'DiffMethod'>): DiffMethod {
  // No silent fallback: a reviewer must know when replacements come from the spec, not CloudFormation.
  return method === 'change-set' ? DiffMethod.ChangeSet({ fallbackToTemplate: false }) : DiffMethod.TemplateOnly();
}

/** The `app` command of cdk.json in `cwd`. */
export function cdkJsonApp(cwd: string): string {
  const file = join(cwd, 'cdk.json');
  if (!existsSync(file)) {
    throw new UserInputError(`No cdk.json in ${cwd}: set 'working-directory' to the app's folder, or set 'app'.`);
  }
  const app = (JSON.parse(readFileSync(file, 'utf8')) as { app?: unknown }).app;
  if (typeof app !== 'string' || !app.trim())
    throw new UserInputError(`${file} has no "app" command: set the 'app' input.`);
  return app;
}

function formatFindings(findings: readonly NagFinding[]): string {
  return findings.map((finding) => `  ${finding.rule}  ${finding.path}\n    ${finding.description}`).join('\n');
}

/**
 * Synthesizes the app for one environment (or loads `assembly-dir`) and reads the validation
 * report. A cdk-nag error fails here, with every finding listed.
 */
export async function produceAssembly(inputs: Inputs, deps: CommandDeps): Promise<Assembly> {
  const { cwd } = deps;
  const [toolkit, lib] = await Promise.all([deps.toolkit(), toolkitLib()]);
  let source: ICloudAssemblySource;
  let directory: string;
  if (inputs.assemblyDir) {
    directory = isAbsolute(inputs.assemblyDir) ? inputs.assemblyDir : resolve(cwd, inputs.assemblyDir);
    if (!existsSync(join(directory, 'manifest.json'))) {
      throw new UserInputError(`'assembly-dir' ${directory} is not a cloud assembly (no manifest.json).`);
    }
    source = await toolkit.fromAssemblyDirectory(directory);
  } else {
    const app = inputs.app ?? cdkJsonApp(cwd);
    directory = resolve(cwd, inputs.outputDir);
    deps.logger.info(`Synthesizing ${inputs.environment} with: ${app}`);
    source = await toolkit.fromCdkApp(app, {
      workingDirectory: cwd,
      outdir: directory,
      contextStore: new lib.CdkAppMultiContext(cwd, { environments: inputs.environment }),
      resolveDefaultEnvironment: deps.resolveDefaultEnvironment,
    });
  }
  let assembly: CachedCloudAssembly;
  try {
    assembly = await toolkit.synth(source, {
      stacks: stackSelector(stackPatterns({ ...inputs, command: 'synth' }), lib),
    });
  } catch (error) {
    const nag = readNagReport(directory);
    const blocking = blockingFindings(nag.findings);
    if (blocking.length > 0) {
      throw new SynthFindingsError(
        `cdk-nag: ${blocking.length} unacknowledged finding(s); fix the resource or acknowledge the finding on its construct with a reason:\n${formatFindings(blocking)}`,
        nag,
      );
    }
    throw new Error(`Synthesis of ${inputs.environment} failed: ${errorMessage(error)}`, { cause: error });
  }
  const nag = readNagReport(directory);
  const blocking = blockingFindings(nag.findings);
  if (blocking.length > 0) {
    await assembly.dispose();
    throw new SynthFindingsError(
      `cdk-nag: ${blocking.length} unacknowledged finding(s):\n${formatFindings(blocking)}`,
      nag,
    );
  }
  return { assembly, directory, nag };
}

/** Synthesis stopped on validation findings; carries them for the job summary. */
export class SynthFindingsError extends Error {
  constructor(
    message: string,
    readonly nag: NagReport,
  ) {
    super(message);
    this.name = 'SynthFindingsError';
  }
}

/** The selected stacks of an assembly, in the assembly's (dependency) order. */
export function selectedStacks(assembly: CachedCloudAssembly, patterns: readonly string[]): SelectedStack[] {
  const matchers = patterns.map(
    (pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
  );
  return assembly.cloudAssembly.stacksRecursively
    .filter((stack) => matchers.some((matcher) => matcher.test(stack.stackName) || matcher.test(stack.hierarchicalId)))
    .map((stack) => {
      const template = stack.template as SelectedStack['template'];
      return {
        stackName: stack.stackName,
        account: stack.environment.account,
        region: stack.environment.region,
        resources: Object.values(template.Resources ?? {}).filter(
          (r) => (r as { Type?: string }).Type !== 'AWS::CDK::Metadata',
        ).length,
        template,
      };
    });
}

/**
 * What the selected stacks need from their environment's CDK bootstrap: the qualifier their
 * synthesizer names (in the bootstrap version parameter, `/cdk-bootstrap/<qualifier>/version`) and
 * the newest bootstrap version any of them requires.
 */
export function bootstrapRequirement(
  assembly: CachedCloudAssembly,
  stacks: readonly SelectedStack[],
  environment: string,
): BootstrapRequirement {
  const names = new Set(stacks.map((stack) => stack.stackName));
  const artifacts = assembly.cloudAssembly.stacksRecursively.filter((stack) => names.has(stack.stackName));
  const qualifiers = new Set(
    artifacts.map(
      (stack) => /^\/cdk-bootstrap\/([^/]+)\/version$/.exec(stack.bootstrapStackVersionSsmParameter ?? '')?.[1],
    ),
  );
  const [qualifier] = [...qualifiers];
  if (qualifiers.size !== 1 || !qualifier) {
    throw new UserInputError(
      `The stacks ${[...names].join(', ')} do not name one CDK bootstrap qualifier (found ${[...qualifiers].map(String).join(', ')}): ` +
        'every stack of an environment must use the environment’s bootstrapQualifier (infra/lib/build-app.ts).',
    );
  }
  const [first] = artifacts;
  return {
    environment,
    account: first?.environment.account ?? '',
    region: first?.environment.region ?? '',
    qualifier,
    minimumVersion: Math.max(0, ...artifacts.map((stack) => stack.requiresBootstrapStackVersion ?? 0)),
  };
}

/** Template-only (or change-set) diffs of the selected stacks against what is deployed. */
export async function diffStacks(
  assembly: CachedCloudAssembly,
  patterns: readonly string[],
  method: Inputs['diffMethod'],
  toolkit: () => Promise<Toolkit>,
): Promise<Record<string, TemplateDiff>> {
  const [kit, lib] = await Promise.all([toolkit(), toolkitLib()]);
  return kit.diff(assembly, { stacks: stackSelector(patterns, lib), method: diffMethod(method, lib) });
}

/** The deploy options for the `deployment-method` input. */
export function deployOptions(
  stacks: readonly SelectedStack[],
  method: Inputs['deploymentMethod'],
  { StackParameters }: Pick<ToolkitLib, 'StackParameters'>,
): { deploymentMethod: DeploymentMethod; parameters?: StackParameters } {
  if (method === 'change-set') return { deploymentMethod: { method: 'change-set' } };
  // With direct stack updates, pass the bootstrap version parameter its (SSM path) default
  // explicitly: UsePreviousValue on an SSM-typed parameter is what some CloudFormation
  // implementations (the local emulator) get wrong. The value is the template's own default.
  const bootstrap = stacks.map((stack) => stack.template.Parameters?.BootstrapVersion?.Default).find(Boolean);
  return {
    deploymentMethod: { method: 'direct' },
    ...(typeof bootstrap === 'string'
      ? { parameters: StackParameters.withExisting({ BootstrapVersion: bootstrap }) }
      : {}),
  };
}

/** Stack outputs by stack name. */
export type StackOutputs = Record<string, Record<string, string>>;

/**
 * Deploys the selected stacks in dependency order. On failure the error names the resource that
 * failed and CloudFormation's reason (from the stack events the IoHost saw).
 */
export async function deployStacks(
  assembly: CachedCloudAssembly,
  stacks: readonly SelectedStack[],
  method: Inputs['deploymentMethod'],
  deps: Pick<CommandDeps, 'toolkit' | 'io'>,
): Promise<StackOutputs> {
  try {
    const [toolkit, lib] = await Promise.all([deps.toolkit(), toolkitLib()]);
    const result = await toolkit.deploy(assembly, {
      stacks: stackSelector(
        stacks.map((stack) => stack.stackName),
        lib,
      ),
      ...deployOptions(stacks, method, lib),
    });
    const outputs: StackOutputs = {};
    for (const stack of result.stacks) outputs[stack.stackName] = { ...stack.outputs };
    return outputs;
  } catch (error) {
    const failure = deps.io.rootFailure();
    if (failure) {
      throw new Error(
        `Deploying ${failure.stack} failed at ${failure.type} ${failure.logicalId}${failure.path ? ` (${failure.path})` : ''}: ` +
          `${failure.status}: ${failure.reason || 'no reason given'}. Toolkit: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    throw new Error(`Deploy failed: ${errorMessage(error)}`, { cause: error });
  }
}
