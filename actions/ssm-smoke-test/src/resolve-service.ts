import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { UserInputError, withOperation } from '../../shared/src/errors.js';
import type { ServiceSource } from './inputs.js';

/** The service under test, and the port its container listens on (when the stack says). */
export interface ServiceRef {
  readonly cluster: string;
  readonly service: string;
  readonly container?: string;
  readonly port?: number;
  /** The environment, when the stack name says (`<env>-service`). */
  readonly environment?: string;
}

/** Picks the service stack's outputs (ClusterName, ServiceName, ContainerName, ContainerPort). */
export function fromOutputs(outputs: Record<string, Record<string, string>>, where: string): ServiceRef {
  const match = Object.entries(outputs).find(([, values]) => values && values.ClusterName && values.ServiceName);
  if (!match) {
    throw new UserInputError(
      `${where} has no stack with ClusterName and ServiceName outputs (found stacks: ${Object.keys(outputs).join(', ') || 'none'}). ` +
        'Pass the deploy job output of the service stack, or cluster and service.',
    );
  }
  const [stackName, values] = match;
  const environment = /^(.+)-service$/.exec(stackName)?.[1];
  return {
    ...(environment ? { environment } : {}),
    cluster: values.ClusterName!,
    service: values.ServiceName!,
    container: values.ContainerName,
    port: values.ContainerPort ? Number(values.ContainerPort) : undefined,
  };
}

export async function resolveService(
  source: ServiceSource,
  cloudformation: () => CloudFormationClient,
): Promise<ServiceRef> {
  if (source.kind === 'explicit') return { cluster: source.cluster, service: source.service };
  if (source.kind === 'outputs') return fromOutputs(source.outputs, "Input 'outputs'");
  const stackName = `${source.environment}-service`;
  let stacks;
  try {
    ({ Stacks: stacks } = await cloudformation().send(new DescribeStacksCommand({ StackName: stackName })));
  } catch (error) {
    throw withOperation(`Reading the outputs of stack ${stackName}`, error);
  }
  const outputs = Object.fromEntries((stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  return fromOutputs({ [stackName]: outputs }, `Stack ${stackName}`);
}
