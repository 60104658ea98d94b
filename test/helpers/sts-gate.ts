import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetRoleCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
  GetOpenIDConnectProviderCommand,
} from '@aws-sdk/client-iam';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { tokenConditionContext } from './iam/gate.js';
import { motoClientConfig, type LocalAws } from './moto.js';
import type { OidcIssuer } from './oidc-issuer.js';
import { evaluate, type PolicyDocument } from './trust-policy.js';

/** The provider the local issuer stands in for, as IAM names it. */
const GITHUB_PROVIDER_HOST = 'token.actions.githubusercontent.com';

export type StsFault = 'throttle' | 'server' | 'idp-communication' | 'reset';

export interface GateDecision {
  readonly roleArn: string;
  readonly sub?: string;
  readonly aud?: string;
  readonly outcome: 'allowed' | 'denied' | 'invalid-token' | StsFault;
}

/**
 * STS as AWS runs it, in front of moto (which accepts any token and evaluates no trust policy):
 * AssumeRoleWithWebIdentity verifies the JWT's RS256 signature against the local issuer's JWKS,
 * requires the GitHub OIDC provider to exist in moto's IAM with the token's audience, and evaluates
 * the role's trust policy (read from moto's IAM) against the token's sub and aud. Allowed calls and
 * every other STS call go to moto. Faults can be queued to test retries.
 */
export class StsGate {
  readonly decisions: GateDecision[] = [];
  private readonly faults: StsFault[] = [];
  private server?: Server;
  private readonly iam: IAMClient;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly aws: LocalAws,
    private readonly issuer: OidcIssuer,
  ) {
    this.iam = new IAMClient(motoClientConfig(aws));
    this.jwks = createRemoteJWKSet(new URL(`${issuer.url}/.well-known/jwks`));
  }

  get endpoint(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The next AssumeRoleWithWebIdentity calls fail with these faults, one each, in order. */
  injectFaults(...faults: StsFault[]): void {
    this.faults.push(...faults);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void readBody(req)
        .then((body) => this.handle(req, body))
        .then(({ status, body, contentType }) => {
          if (status === 0) {
            req.socket.destroy(); // a network error, as a dropped connection
            return;
          }
          res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomUUID() });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(
    req: IncomingMessage,
    body: string,
  ): Promise<{ status: number; body: string; contentType: string }> {
    const params = new URLSearchParams(body);
    if (params.get('Action') !== 'AssumeRoleWithWebIdentity') return this.forward(req, body);

    const roleArn = params.get('RoleArn') ?? '';
    const fault = this.faults.shift();
    if (fault) {
      this.decisions.push({ roleArn, outcome: fault });
      if (fault === 'throttle') return stsError(400, 'Throttling', 'Rate exceeded');
      if (fault === 'server') return stsError(500, 'InternalFailure', 'An internal error occurred', 'Receiver');
      if (fault === 'idp-communication') {
        return stsError(400, 'IDPCommunicationError', "Couldn't retrieve verification key from your identity provider");
      }
      return { status: 0, body: '', contentType: '' };
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(params.get('WebIdentityToken') ?? '', this.jwks, { issuer: this.issuer.url }));
    } catch (error) {
      this.decisions.push({ roleArn, outcome: 'invalid-token' });
      return stsError(400, 'InvalidIdentityToken', `The web identity token is not valid: ${(error as Error).message}`);
    }
    const sub = payload.sub;
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    const providerArn = await this.providerArnFor(aud ?? '');
    if (!providerArn) {
      this.decisions.push({ roleArn, sub, aud, outcome: 'invalid-token' });
      return stsError(
        400,
        'InvalidIdentityToken',
        `No OpenIDConnect provider found in your account for https://${GITHUB_PROVIDER_HOST} with audience ${aud}`,
      );
    }
    const trust = await this.trustPolicy(roleArn);
    const decision = trust
      ? evaluate(trust, {
          action: 'sts:AssumeRoleWithWebIdentity',
          principal: { type: 'Federated', id: providerArn },
          context: tokenConditionContext(payload, aud),
        })
      : 'ImplicitDeny';
    if (decision !== 'Allow') {
      this.decisions.push({ roleArn, sub, aud, outcome: 'denied' });
      return stsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    this.decisions.push({ roleArn, sub, aud, outcome: 'allowed' });
    return this.forward(req, body);
  }

  private async providerArnFor(audience: string): Promise<string | undefined> {
    const { OpenIDConnectProviderList = [] } = await this.iam.send(new ListOpenIDConnectProvidersCommand({}));
    for (const { Arn } of OpenIDConnectProviderList) {
      if (!Arn?.endsWith(`/${GITHUB_PROVIDER_HOST}`)) continue;
      const provider = await this.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: Arn }));
      if (provider.ClientIDList?.includes(audience)) return Arn;
    }
    return undefined;
  }

  private async trustPolicy(roleArn: string): Promise<PolicyDocument | undefined> {
    const roleName = roleArn.split('/').pop() ?? '';
    try {
      const { Role } = await this.iam.send(new GetRoleCommand({ RoleName: roleName }));
      return JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? '')) as PolicyDocument;
    } catch {
      return undefined;
    }
  }

  private async forward(
    req: IncomingMessage,
    body: string,
  ): Promise<{ status: number; body: string; contentType: string }> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) headers[name] = value;
    }
    const response = await fetch(`${this.aws.endpoint}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      body: body || undefined,
    });
    return {
      status: response.status,
      body: await response.text(),
      contentType: response.headers.get('content-type') ?? 'text/xml',
    };
  }
}

function stsError(
  status: number,
  code: string,
  message: string,
  type = 'Sender',
): { status: number; body: string; contentType: string } {
  return {
    status,
    contentType: 'text/xml',
    body:
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type>` +
      `<Code>${code}</Code><Message>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
