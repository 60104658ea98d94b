import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import type { Toolkit } from '@aws-cdk/toolkit-lib';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { toolkitStackName } from '../../../infra/lib/names.js';
import { awsClientConfig } from '../../shared/src/aws.js';
import { errorMessage, UserInputError, withOperation } from '../../shared/src/errors.js';
import { actionsLogger } from '../../shared/src/logger.js';
import { upsertStickyComment, type GitHubClient } from './comment.js';
import { SynthFindingsError, type CommandDeps } from './commands.js';
import { parseInputs, type Inputs } from './inputs.js';
import { ActionIoHost } from './io-host.js';
import {
  ReviewRefusedError,
  runDeploy,
  runDiff,
  runDrift,
  runSynth,
  type CommentPlan,
  type Outcome,
} from './outcomes.js';
import { runComment } from './review.js';
import { runPower } from './sleep.js';
import { buildRunContext, readEventFile, type RunContext } from './run-context.js';
import { toolkitLib } from './toolkit-lib.js';
import { reviewRefusalSummary, synthSummary } from './summary.js';

/** The only place where inputs are read, outputs set and a failure becomes the step's failure. */
export async function run(): Promise<void> {
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    const context = buildRunContext(process.env, readEventFile(process.env.GITHUB_EVENT_PATH));
    const deps = commandDeps(inputs, context);
    const github = inputs.githubToken ? getOctokit(inputs.githubToken) : undefined;
    const cloudformation = (region: string): CloudFormationClient =>
      new CloudFormationClient(awsClientConfig({ region, action: 'cdk' }));
    const outcome = await dispatch(inputs, context, deps, github, cloudformation);
    await publish(outcome, github);
  } catch (error) {
    if (error instanceof SynthFindingsError) {
      await core.summary.addRaw(synthSummary([], error.nag, 'failed')).write();
    }
    if (error instanceof ReviewRefusedError) {
      await core.summary.addRaw(reviewRefusalSummary(error.message, error.fingerprint)).write();
    }
    core.setFailed(errorMessage(error));
  }
}

function dispatch(
  inputs: Inputs,
  context: RunContext,
  deps: CommandDeps,
  github: GitHubClient | undefined,
  cloudformation: (region: string) => CloudFormationClient,
): Promise<Outcome> {
  switch (inputs.command) {
    case 'synth':
      return runSynth(inputs, deps);
    case 'diff':
      return runDiff(inputs, context, { ...deps, github, cloudformation });
    case 'comment':
      if (!github) throw new UserInputError("The comment command needs 'github-token' (pull-requests: write).");
      return runComment(
        {
          dataDir: inputs.dataDir!,
          pullRequest: { ...context.repository!, number: inputs.pullRequest! },
          headSha: inputs.headSha,
          allowLabel: inputs.allowDestructiveLabel,
          runUrl: context.runUrl,
        },
        { github, logger: actionsLogger },
      );
    case 'deploy':
      return runDeploy(inputs, context, {
        ...deps,
        github,
        bootstrapClients: (region) => {
          const config = awsClientConfig({ region, action: 'cdk' });
          return {
            cloudformation: new CloudFormationClient(config),
            ssm: new SSMClient(config),
            ecr: new ECRClient(config),
          };
        },
      });
    case 'drift':
      return runDrift(inputs, context, {
        ...deps,
        cloudformation,
        github,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      });
    case 'sleep':
    case 'wake':
    case 'schedule': {
      const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      if (!region)
        throw new UserInputError(`The ${inputs.command} command needs AWS_REGION (the aws-credentials step sets it).`);
      return runPower(inputs.command, inputs.environment, inputs.schedule, new Date(), {
        cloudformation: cloudformation(region),
        assumeRole: (roleArn, roleRegion) => assumeRoleCloudFormation(roleArn, roleRegion, inputs.environment),
        logger: actionsLogger,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      });
    }
  }
}

/** CloudFormation as a role the caller assumes (the bootstrap deploy role), for sleep and wake. */
async function assumeRoleCloudFormation(
  roleArn: string,
  region: string,
  environment: string,
): Promise<CloudFormationClient> {
  const sts = new STSClient(awsClientConfig({ region, action: 'cdk' }));
  let credentials;
  try {
    ({ Credentials: credentials } = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: `power-${environment}`, DurationSeconds: 3600 }),
    ));
  } catch (error) {
    throw withOperation(`Assuming ${roleArn}`, error);
  }
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey)
    throw new Error(`Assuming ${roleArn} returned no credentials.`);
  for (const secret of [credentials.SecretAccessKey, credentials.SessionToken]) if (secret) core.setSecret(secret);
  return new CloudFormationClient({
    ...awsClientConfig({ region, action: 'cdk' }),
    credentials: {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
    },
  });
}

function commandDeps(inputs: Inputs, context: RunContext): CommandDeps {
  const io = new ActionIoHost(actionsLogger);
  let toolkit: Promise<Toolkit> | undefined;
  return {
    // The environment's own bootstrap stack (docs/setup.md), not the default CDKToolkit.
    toolkit: () =>
      (toolkit ??= toolkitLib().then(
        ({ Toolkit }) =>
          new Toolkit({
            ioHost: io,
            color: false,
            emojis: false,
            toolkitStackName: toolkitStackName(inputs.environment),
          }),
      )),
    io,
    logger: actionsLogger,
    cwd: inputs.workingDirectory ?? context.workspace ?? process.cwd(),
    resolveDefaultEnvironment: context.hasAwsCredentials,
  };
}

/** Maps an outcome to the step's outputs, job summary, log, comment and failure. */
async function publish(outcome: Outcome, github: GitHubClient | undefined): Promise<void> {
  switch (outcome.command) {
    case 'synth':
      core.setOutput('assembly-dir', outcome.assemblyDir);
      await core.summary.addRaw(outcome.summary).write();
      core.info(outcome.message);
      return;
    case 'comment':
      await core.summary.addRaw(outcome.summary).write();
      core.info(outcome.message);
      return;
    case 'power':
      core.setOutput('state', outcome.state);
      core.setOutput('changed', String(outcome.changed));
      await core.summary.addRaw(outcome.summary).write();
      core.info(outcome.message);
      return;
    case 'drift':
      core.setOutput('drifted', String(outcome.drifted));
      await core.summary.addRaw(outcome.summary).write();
      if (outcome.drifted) core.warning(outcome.message);
      else core.info(outcome.message);
      return;
    case 'deploy':
      core.setOutput('assembly-dir', outcome.assemblyDir);
      core.setOutput('outputs', JSON.stringify(outcome.outputs));
      await core.summary.addRaw(outcome.summary).write();
      core.info(outcome.message);
      return;
    case 'diff':
      if (outcome.kind === 'nag-refused') {
        await postComment(outcome.comment, github);
        await core.summary.addRaw(synthSummary([], outcome.nag, 'failed')).write();
        core.setFailed(outcome.failure);
        return;
      }
      core.setOutput('assembly-dir', outcome.assemblyDir);
      mkdirSync(dirname(outcome.reportFile), { recursive: true });
      writeFileSync(outcome.reportFile, outcome.fullReport);
      await core.summary.addRaw(outcome.summary).write();
      core.setOutput('has-changes', String(outcome.hasChanges));
      core.setOutput('has-destructive-changes', String(outcome.destructive.length > 0));
      core.setOutput('report-file', outcome.reportFile);
      core.setOutput('data-file', outcome.dataFile ?? '');
      core.info(outcome.message);
      for (const warning of outcome.warnings) core.warning(warning);
      await postComment(outcome.comment, github);
      if (outcome.failure) core.setFailed(outcome.failure);
      return;
  }
}

async function postComment(plan: CommentPlan | undefined, github: GitHubClient | undefined): Promise<void> {
  if (!plan || !github) return;
  const posted = await upsertStickyComment(github, plan.pullRequest, plan.marker, plan.bodies(), actionsLogger);
  core.info(`${plan.subject} ${posted.action} on #${plan.pullRequest.number} (comment ${posted.commentId}).`);
}
