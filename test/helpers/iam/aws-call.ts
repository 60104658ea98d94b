/**
 * An AWS API request as the gate sees it: which service, Region and access key signed it (from
 * the SigV4 Authorization header), which operation it is, and its parameters, for the three
 * protocols the project's clients use: query (CloudFormation, IAM, STS, EC2), JSON 1.1 (ECS, SSM,
 * CloudWatch Logs, KMS) and S3's REST.
 */
export interface AwsCall {
  /** The SigV4 signing name: cloudformation, s3, ecs, ssm, sts, iam, ec2, logs, kms... */
  readonly service: string;
  readonly region: string;
  /** Undefined for an unsigned call (AssumeRoleWithWebIdentity). */
  readonly accessKeyId?: string;
  readonly operation: string;
  readonly protocol: 'query' | 'json' | 'rest-xml';
  /** Query parameters as sent (`Parameters.member.1.ParameterKey`), or the JSON body, or S3's bucket and key. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export function parseAwsCall(
  method: string,
  url: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): AwsCall {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') flat[name.toLowerCase()] = value;
  const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(flat.authorization ?? '');
  const target = flat['x-amz-target'];
  const parsed = new URL(url, 'http://gate.local');
  const base = { method, path: parsed.pathname, headers: flat, body };
  if (target) {
    const operation = target.split('.').pop() ?? '';
    const text = body.toString('utf8');
    return {
      ...base,
      service: scope?.[3] ?? serviceFromTarget(target),
      region: scope?.[2] ?? '',
      accessKeyId: scope?.[1],
      operation,
      protocol: 'json',
      params: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }
  const service = scope?.[3] ?? (flat['content-type']?.includes('x-www-form-urlencoded') ? 'sts' : 's3');
  if (service !== 's3') {
    const form = new URLSearchParams(method === 'GET' ? parsed.search : body.toString('utf8'));
    const params = Object.fromEntries(form.entries());
    return {
      ...base,
      service,
      region: scope?.[2] ?? '',
      accessKeyId: scope?.[1],
      operation: params.Action ?? '',
      protocol: 'query',
      params,
    };
  }
  const { bucket, key } = s3Location(parsed, flat.host ?? '');
  return {
    ...base,
    service,
    region: scope?.[2] ?? '',
    accessKeyId: scope?.[1],
    operation: s3Operation(method, bucket, key, parsed.searchParams),
    protocol: 'rest-xml',
    params: { Bucket: bucket, Key: key },
  };
}

function serviceFromTarget(target: string): string {
  if (target.startsWith('AmazonSSM')) return 'ssm';
  if (target.startsWith('AmazonEC2ContainerService')) return 'ecs';
  if (target.startsWith('Logs_')) return 'logs';
  return target.split('_')[0]?.toLowerCase() ?? '';
}

/** Path-style (`/bucket/key`) or virtual-hosted (`bucket.host/key`) addressing. */
function s3Location(url: URL, host: string): { bucket: string; key: string } {
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const virtual = /^([a-z0-9][a-z0-9.-]*)\.(?:localhost|127\.0\.0\.1|s3[.-])/.exec(host);
  if (virtual && !host.startsWith('localhost') && !host.startsWith('127.')) return { bucket: virtual[1]!, key: path };
  const [bucket = '', ...rest] = path.split('/');
  return { bucket, key: rest.join('/') };
}

function s3Operation(method: string, bucket: string, key: string, query: URLSearchParams): string {
  if (!bucket) return 'ListBuckets';
  if (key) {
    if (query.has('uploads') || query.has('uploadId')) return `${method}MultipartUpload`;
    return { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' }[method] ?? method;
  }
  if (query.has('location')) return 'GetBucketLocation';
  if (query.has('policy')) return `${method === 'GET' ? 'Get' : method === 'PUT' ? 'Put' : 'Delete'}BucketPolicy`;
  if (query.has('versioning')) return method === 'GET' ? 'GetBucketVersioning' : 'PutBucketVersioning';
  if (query.has('encryption')) return method === 'GET' ? 'GetBucketEncryption' : 'PutBucketEncryption';
  if (method === 'HEAD') return 'HeadBucket';
  if (method === 'GET') return 'ListObjectsV2';
  if (method === 'PUT') return 'CreateBucket';
  if (method === 'DELETE') return 'DeleteBucket';
  return method;
}

/** The values of a query-protocol list (`Prefix.member.N` or `Prefix.N`), in order. */
export function queryList(params: Readonly<Record<string, unknown>>, prefix: string): string[] {
  const values: [number, string][] = [];
  for (const [name, value] of Object.entries(params)) {
    const match = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(?:member\\.)?(\\d+)$`).exec(name);
    if (match) values.push([Number(match[1]), String(value)]);
  }
  return values.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
}

/** A query-protocol list of structures (`Parameters.member.N.ParameterKey`), as objects. */
export function queryStructList(params: Readonly<Record<string, unknown>>, prefix: string): Record<string, string>[] {
  const items = new Map<number, Record<string, string>>();
  for (const [name, value] of Object.entries(params)) {
    const match = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(?:member\\.)?(\\d+)\\.(.+)$`).exec(name);
    if (!match) continue;
    const index = Number(match[1]);
    items.set(index, { ...items.get(index), [match[2]!]: String(value) });
  }
  return [...items.entries()].sort((a, b) => a[0] - b[0]).map(([, item]) => item);
}
