import type { IIoHost, IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';
import type { Logger } from '../../shared/src/logger.js';

/** A CloudFormation resource that failed during a deploy, with CloudFormation's reason. */
export interface ResourceFailure {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly path?: string;
}

interface StackActivityPayload {
  readonly event?: {
    readonly StackName?: string;
    readonly LogicalResourceId?: string;
    readonly ResourceType?: string;
    readonly ResourceStatus?: string;
    readonly ResourceStatusReason?: string;
  };
  readonly metadata?: { readonly constructPath?: string };
}

/** Reasons CloudFormation gives to resources it stops because another one failed. */
const CASCADE = /cancelled|Resource creation cancelled|Resource update cancelled|The following resource\(s\) failed/i;

/**
 * The toolkit's IoHost for a runner step: messages become log lines, deploy activity becomes one
 * progress line per CloudFormation event, failed resources are remembered for the error message,
 * and the deploy confirmation of security-sensitive changes (CDK_TOOLKIT_I5060) is answered by
 * the review gate, not by a prompt: yes only once the gate allowed this deploy (`approve`), no
 * otherwise, so no path deploys an IAM or security-group change that the gate did not pass.
 */
export class ActionIoHost implements IIoHost {
  readonly failures: ResourceFailure[] = [];
  /** Why this deploy's security changes are approved (the gate's reason), once they are. */
  private approval: string | undefined;

  constructor(private readonly logger: Logger) {}

  async notify(msg: IoMessage<unknown>): Promise<void> {
    if (msg.code === 'CDK_TOOLKIT_I5502') {
      this.activity(msg.data as StackActivityPayload);
      return;
    }
    const text = msg.message.trimEnd();
    if (!text) return;
    switch (msg.level) {
      case 'error':
      case 'warn':
        this.logger.warning(text);
        break;
      case 'info':
      case 'result':
        this.logger.info(text);
        break;
      default:
        this.logger.debug(text);
    }
  }

  /** Approves the security-sensitive changes of the deploy that follows, for the reason given. */
  approve(reason: string): void {
    this.approval = reason;
  }

  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    if (msg.code === 'CDK_TOOLKIT_I5060') {
      if (this.approval === undefined) {
        this.logger.warning('Security-sensitive changes refused: the review gate did not approve this deploy.');
        return false as T;
      }
      this.logger.info(`Deploying security-sensitive changes: ${this.approval}`);
      return true as T;
    }
    await this.notify(msg);
    return msg.defaultResponse;
  }

  /** The failure that caused the others (not a cascade of cancellations), if any was seen. */
  rootFailure(): ResourceFailure | undefined {
    return this.failures.find((failure) => !CASCADE.test(failure.reason)) ?? this.failures[0];
  }

  private activity(data: StackActivityPayload | undefined): void {
    const event = data?.event;
    if (!event) return;
    const status = event.ResourceStatus ?? '';
    const path = data.metadata?.constructPath;
    const reason = event.ResourceStatusReason ?? '';
    this.logger.info(
      [event.StackName, status, event.ResourceType, event.LogicalResourceId, path ? `(${path})` : '', reason]
        .filter(Boolean)
        .join(' '),
    );
    if (status.endsWith('_FAILED') && event.ResourceType !== 'AWS::CloudFormation::Stack') {
      this.failures.push({
        stack: event.StackName ?? '',
        logicalId: event.LogicalResourceId ?? '',
        type: event.ResourceType ?? '',
        status,
        reason,
        ...(path ? { path } : {}),
      });
    }
  }
}
