/**
 * The AWS JSON 1.1 protocol both emulated APIs speak: a POST whose `X-Amz-Target` names
 * `<Service>.<Operation>`, a JSON body in, a JSON body out, errors as `__type` plus
 * `x-amzn-errortype`. One body reader and one responder for the SSM and the ECS API alike.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** An error the SDK maps to a modeled exception (`type`). */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One API's operations: the parsed input in, the output object back (or an ApiError thrown). */
export type ApiHandler = (operation: string, input: Record<string, unknown>, req: IncomingMessage) => unknown;

/** The whole request body as a JSON object (`{}` when empty). */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ApiError('SerializationException', `Expected a JSON request body, got: ${text.slice(0, 80)}`);
  }
}

/**
 * Serves one request: routes `X-Amz-Target` to the API registered for its service prefix
 * (e.g. `AmazonSSM`), reports the call as `<name>.<Operation>` and writes the answer.
 */
export async function serveAwsJson(
  req: IncomingMessage,
  res: ServerResponse,
  apis: Record<string, { readonly name: string; readonly handle: ApiHandler }>,
  onCall: (call: string) => void,
): Promise<void> {
  try {
    const [service = '', operation = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
    const input = await readJsonBody(req);
    const api = apis[service];
    if (!api) throw new ApiError('UnknownOperationException', `No emulated service answers X-Amz-Target '${service}'`);
    onCall(`${api.name}.${operation}`);
    const output = api.handle(operation, input, req);
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(output));
  } catch (error) {
    const failure = error instanceof ApiError ? error : new ApiError('InternalServerError', String(error), 500);
    res.writeHead(failure.status, { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': failure.type });
    res.end(JSON.stringify({ __type: failure.type, message: failure.message }));
  }
}
