import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as core from '@actions/core';
import { context, getOctokit } from '@actions/github';
import { Toolkit } from '@aws-cdk/toolkit-lib';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SSMClient } from '@aws-sdk/client-ssm';
import { toolkitStackName } from '../../../infra/lib/names.js';
import { awsClientConfig } from '../../shared/src/aws.js';
import { errorMessage } from '../../shared/src/errors.js';
import { actionsLogger } from '../../shared/src/logger.js';
import { commentMarker, fitReport, renderNagFailure, renderReport, smallerReports, SUMMARY_LIMIT } from './render.js';
import { pullRequestLabels, upsertStickyComment, type PullRequestRef } from './comment.js';
import {
  bootstrapRequirement,
  deployStacks,
  diffStacks,
  produceAssembly,
  selectedStacks,
  stackPatterns,
  SynthFindingsError,
  type CommandDeps,
} from './commands.js';
import { checkBootstrap } from './bootstrap-check.js';
import { parseInputs, shouldComment, type Inputs } from './inputs.js';
import { ActionIoHost } from './io-host.js';
import { buildReport, destructiveChanges, hasChanges } from './report.js';
import { deploySummary, synthSummary } from './summary.js';

/** The only place where inputs are read, outputs set and a failure becomes the step's failure. */
export async function run(): Promise<void> {
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    const io = new ActionIoHost(actionsLogger);
    const deps: CommandDeps = {
      // The environment's own bootstrap stack (docs/setup.md), not the default CDKToolkit.
      toolkit: new Toolkit({
        ioHost: io,
        color: false,
        emojis: false,
        toolkitStackName: toolkitStackName(inputs.environment),
      }),
      io,
      logger: actionsLogger,
      cwd: inputs.workingDirectory ?? process.env.GITHUB_WORKSPACE ?? process.cwd(),
      resolveDefaultEnvironment: Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE),
    };
    if (inputs.command === 'synth') await synth(inputs, deps);
    else if (inputs.command === 'diff') await diff(inputs, deps);
    else await deploy(inputs, deps);
  } catch (error) {
    if (error instanceof SynthFindingsError) {
      await core.summary.addRaw(synthSummary([], error.nag, 'failed')).write();
    }
    core.setFailed(errorMessage(error));
  }
}

async function synth(inputs: Inputs, deps: CommandDeps): Promise<void> {
  const { assembly, directory, nag } = await produceAssembly(inputs, deps);
  try {
    core.setOutput('assembly-dir', directory);
    const stacks = selectedStacks(assembly, stackPatterns(inputs));
    await core.summary.addRaw(synthSummary(stacks, nag, 'passed')).write();
    core.info(
      `Synthesized ${stacks.length} stack(s) of ${inputs.environment} to ${directory}; cdk-nag: no unacknowledged finding.`,
    );
  } finally {
    await assembly.dispose();
  }
}

function pullRequest(): PullRequestRef | undefined {
  const number = context.payload.pull_request?.number ?? context.payload.issue?.number;
  return typeof number === 'number' ? { ...context.repo, number } : undefined;
}

/** On a pull request, a cdk-nag refusal is put in the sticky comment too, where the author looks. */
async function commentNagFailure(inputs: Inputs, error: SynthFindingsError): Promise<void> {
  const pr = pullRequest();
  if (!shouldComment(inputs, context.eventName) || !pr || !inputs.githubToken) return;
  const server = process.env.GITHUB_SERVER_URL ?? 'https://github.com';
  const body = renderNagFailure({
    environment: inputs.environment,
    commit: (context.payload.pull_request?.head as { sha?: string } | undefined)?.sha ?? context.sha ?? '',
    runUrl: process.env.GITHUB_RUN_ID
      ? `${server}/${context.repo.owner}/${context.repo.repo}/actions/runs/${process.env.GITHUB_RUN_ID}`
      : undefined,
    nag: error.nag.findings,
  });
  const posted = await upsertStickyComment(
    getOctokit(inputs.githubToken),
    pr,
    commentMarker(inputs.environment),
    [body],
    actionsLogger,
  );
  core.info(`cdk-nag findings ${posted.action} in the diff comment on #${pr.number}.`);
}

async function diff(inputs: Inputs, deps: CommandDeps): Promise<void> {
  let produced;
  try {
    produced = await produceAssembly(inputs, deps);
  } catch (error) {
    if (error instanceof SynthFindingsError) await commentNagFailure(inputs, error);
    throw error;
  }
  const { assembly, directory, nag } = produced;
  try {
    core.setOutput('assembly-dir', directory);
    const patterns = stackPatterns(inputs);
    const stacks = selectedStacks(assembly, patterns);
    const diffs = await diffStacks(assembly, patterns, inputs.diffMethod, deps.toolkit);

    const pr = pullRequest();
    const github = inputs.githubToken ? getOctokit(inputs.githubToken) : undefined;
    const eventLabels = ((context.payload.pull_request?.labels as Array<{ name?: string }> | undefined) ?? []).map(
      (l) => l.name ?? '',
    );
    const labels = pr && github ? await pullRequestLabels(github, pr) : eventLabels;
    const allowed = Boolean(inputs.allowDestructiveLabel && labels.includes(inputs.allowDestructiveLabel));
    const server = process.env.GITHUB_SERVER_URL ?? 'https://github.com';
    const templates = Object.fromEntries(stacks.map((stack) => [stack.stackName, stack.template]));
    const report = buildReport(diffs, templates, {
      environment: inputs.environment,
      account: stacks[0]?.account ?? 'unknown',
      region: stacks[0]?.region ?? 'unknown',
      commit: (context.payload.pull_request?.head as { sha?: string } | undefined)?.sha ?? context.sha ?? '',
      runUrl: process.env.GITHUB_RUN_ID
        ? `${server}/${context.repo.owner}/${context.repo.repo}/actions/runs/${process.env.GITHUB_RUN_ID}`
        : undefined,
      method: inputs.diffMethod,
      nag: nag.findings,
      allowLabel: inputs.allowDestructiveLabel,
      allowed,
      failOnDestructive: inputs.failOnDestructive,
    });

    const reportFile =
      inputs.reportFile ?? join(process.env.RUNNER_TEMP ?? deps.cwd, `cdk-diff-${inputs.environment}.md`);
    mkdirSync(dirname(reportFile), { recursive: true });
    writeFileSync(reportFile, renderReport(report, 'full'));
    await core.summary.addRaw(fitReport(report, SUMMARY_LIMIT)).write();

    const changed = hasChanges(report);
    const destructive = destructiveChanges(report);
    core.setOutput('has-changes', String(changed));
    core.setOutput('has-destructive-changes', String(destructive.length > 0));
    core.setOutput('report-file', reportFile);
    core.info(
      `${inputs.environment}: ${report.stacks.filter((s) => s.hasChanges).length} of ${report.stacks.length} stack(s) change, ` +
        `${destructive.length} destructive change(s); full report in ${reportFile}.`,
    );

    if (shouldComment(inputs, context.eventName)) {
      if (!pr) core.warning('comment is on, but this run has no pull request: no comment posted.');
      else if (!github) core.warning("comment is on, but 'github-token' is empty: no comment posted.");
      else {
        const posted = await upsertStickyComment(
          github,
          pr,
          commentMarker(inputs.environment),
          smallerReports(report),
          actionsLogger,
        );
        core.info(`Diff comment ${posted.action} on #${pr.number} (comment ${posted.commentId}).`);
      }
    }

    if (destructive.length > 0 && inputs.failOnDestructive && !allowed) {
      throw new Error(
        `${destructive.length} destructive change(s) in ${inputs.environment}: ` +
          destructive
            .map((change) => `${change.kind} of ${change.type} ${change.logicalId} (${change.stack})`)
            .join('; ') +
          `. If they are intended, add the '${inputs.allowDestructiveLabel ?? '<allow-destructive-label>'}' label to the pull request and re-run.`,
      );
    }
  } finally {
    await assembly.dispose();
  }
}

async function deploy(inputs: Inputs, deps: CommandDeps): Promise<void> {
  const { assembly, directory } = await produceAssembly(inputs, deps);
  try {
    core.setOutput('assembly-dir', directory);
    const stacks = selectedStacks(assembly, stackPatterns(inputs));
    const requirement = bootstrapRequirement(assembly, stacks, inputs.environment);
    const clientConfig = awsClientConfig({ region: requirement.region, action: 'cdk' });
    await checkBootstrap(requirement, {
      cloudformation: new CloudFormationClient(clientConfig),
      ssm: new SSMClient(clientConfig),
    });
    core.info(
      `${inputs.environment} is bootstrapped (qualifier ${requirement.qualifier}, the foundation's execution policy and boundary).`,
    );
    core.info(`Deploying ${stacks.map((stack) => stack.stackName).join(', ')} (${inputs.deploymentMethod}).`);
    const outputs = await deployStacks(assembly, stacks, inputs.deploymentMethod, deps);
    core.setOutput('outputs', JSON.stringify(outputs));
    await core.summary.addRaw(deploySummary(inputs.environment, outputs)).write();
    core.info(`Deployed ${Object.keys(outputs).length} stack(s) of ${inputs.environment}.`);
  } finally {
    await assembly.dispose();
  }
}
