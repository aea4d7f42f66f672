/**
 * The S3 Control routes the global endpoint answers: one entry per operation, method + path
 * shape → operation name (paths from the S3 Control model, botocore s3control 2018-08-20).
 * `{x+}` labels are greedy: the MRAP ARN and the token ARN keep their '/'.
 */

export type ControlOperation =
  | 'CreateMultiRegionAccessPoint'
  | 'DeleteMultiRegionAccessPoint'
  | 'PutMultiRegionAccessPointPolicy'
  | 'DescribeMultiRegionAccessPointOperation'
  | 'GetMultiRegionAccessPoint'
  | 'ListMultiRegionAccessPoints'
  | 'GetMultiRegionAccessPointPolicy'
  | 'GetMultiRegionAccessPointPolicyStatus'
  | 'GetMultiRegionAccessPointRoutes'
  | 'SubmitMultiRegionAccessPointRoutes'
  | 'CreateJob'
  | 'DescribeJob'
  | 'ListJobs'
  | 'UpdateJobStatus'
  | 'UpdateJobPriority'
  | 'GetPublicAccessBlock'
  | 'PutPublicAccessBlock'
  | 'DeletePublicAccessBlock';

interface Entry {
  method: string;
  path: RegExp;
  op: ControlOperation;
}

/** More specific shapes first: `/mrap/instances/{name}/policy` before `/mrap/instances/{name+}`. */
const TABLE: readonly Entry[] = [
  { method: 'POST', path: /^\/v20180820\/async-requests\/mrap\/create$/, op: 'CreateMultiRegionAccessPoint' },
  { method: 'POST', path: /^\/v20180820\/async-requests\/mrap\/delete$/, op: 'DeleteMultiRegionAccessPoint' },
  { method: 'POST', path: /^\/v20180820\/async-requests\/mrap\/put-policy$/, op: 'PutMultiRegionAccessPointPolicy' },
  { method: 'GET', path: /^\/v20180820\/async-requests\/mrap\/(.+)$/, op: 'DescribeMultiRegionAccessPointOperation' },
  { method: 'GET', path: /^\/v20180820\/mrap\/instances$/, op: 'ListMultiRegionAccessPoints' },
  { method: 'GET', path: /^\/v20180820\/mrap\/instances\/(.+)\/policystatus$/, op: 'GetMultiRegionAccessPointPolicyStatus' },
  { method: 'GET', path: /^\/v20180820\/mrap\/instances\/(.+)\/policy$/, op: 'GetMultiRegionAccessPointPolicy' },
  { method: 'GET', path: /^\/v20180820\/mrap\/instances\/(.+)\/routes$/, op: 'GetMultiRegionAccessPointRoutes' },
  { method: 'PATCH', path: /^\/v20180820\/mrap\/instances\/(.+)\/routes$/, op: 'SubmitMultiRegionAccessPointRoutes' },
  { method: 'GET', path: /^\/v20180820\/mrap\/instances\/(.+)$/, op: 'GetMultiRegionAccessPoint' },
  // Batch Operations jobs (Meridian runs S3ReplicateObject: Batch Replication).
  { method: 'POST', path: /^\/v20180820\/jobs$/, op: 'CreateJob' },
  { method: 'GET', path: /^\/v20180820\/jobs$/, op: 'ListJobs' },
  { method: 'POST', path: /^\/v20180820\/jobs\/([^/]+)\/status$/, op: 'UpdateJobStatus' },
  { method: 'POST', path: /^\/v20180820\/jobs\/([^/]+)\/priority$/, op: 'UpdateJobPriority' },
  { method: 'GET', path: /^\/v20180820\/jobs\/([^/]+)$/, op: 'DescribeJob' },
  // The account's Block Public Access settings.
  { method: 'GET', path: /^\/v20180820\/configuration\/publicAccessBlock$/, op: 'GetPublicAccessBlock' },
  { method: 'PUT', path: /^\/v20180820\/configuration\/publicAccessBlock$/, op: 'PutPublicAccessBlock' },
  { method: 'DELETE', path: /^\/v20180820\/configuration\/publicAccessBlock$/, op: 'DeletePublicAccessBlock' },
];

export type ControlMatch =
  | { kind: 'operation'; op: ControlOperation; /** the greedy label, still percent-encoded */ label?: string }
  | { kind: 'method-not-allowed' }
  | { kind: 'unknown' };

/**
 * Finds the operation for a request. A path that only exists with another method is
 * `method-not-allowed`; any other S3 Control path is `unknown` (not implemented here).
 *
 * @example
 * matchControlRoute('GET', '/v20180820/mrap/instances/my-mrap/policy');
 * // { kind: 'operation', op: 'GetMultiRegionAccessPointPolicy', label: 'my-mrap' }
 */
export function matchControlRoute(method: string, rawPath: string): ControlMatch {
  let pathMatched = false;
  for (const e of TABLE) {
    const m = e.path.exec(rawPath);
    if (!m) continue;
    if (e.method === method) return { kind: 'operation', op: e.op, label: m[1] };
    pathMatched = true;
  }
  return pathMatched ? { kind: 'method-not-allowed' } : { kind: 'unknown' };
}
