/**
 * S3 Control XML: request bodies in, documents out. Element names and nesting follow the S3
 * Control model (botocore s3control 2018-08-20; `@aws-sdk/client-s3-control` schemas).
 */
import { XMLParser } from 'fast-xml-parser';
import type { MrapAsyncRequest, MrapRecord, MrapRequestDetails, PublicAccessBlockSettings } from '../../catalog/catalog.ts';
import { S3Error } from '../../core/errors.ts';
import { parseDocument, toXml, xmlDate, type XmlObject } from '../../s3/xml.ts';

export const S3_CONTROL_NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
});

const malformed = (): S3Error => new S3Error('MalformedXML');

/** The content of the body's root element, which must be `root`; MalformedXML otherwise. */
export function parseControlBody(text: string, root: string): XmlObject {
  const doc = parseDocument(text, parser, malformed);
  if (typeof doc !== 'object' || doc === null) throw malformed();
  const keys = Object.keys(doc).filter((k) => k !== '?xml');
  if (keys.length !== 1 || keys[0] !== root) throw malformed();
  const content = (doc as Record<string, unknown>)[root];
  if (content === '') return {};
  if (!isElement(content)) throw malformed();
  return content;
}

/** A child element with children ('' or absent → undefined). */
export function child(el: XmlObject, name: string): XmlObject | undefined {
  const v = el[name];
  if (v === undefined || v === '') return undefined;
  if (!isElement(v)) throw malformed();
  return v;
}

/** Every `name` child (an XML list), in order. */
export function children(el: XmlObject | undefined, name: string): XmlObject[] {
  const v = el?.[name];
  if (v === undefined || v === '') return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((item) => {
    if (item === '') return {};
    if (!isElement(item)) throw malformed();
    return item;
  });
}

/** A text child; MalformedXML if repeated or not text. */
export function text(el: XmlObject | undefined, name: string): string | undefined {
  const v = el?.[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw malformed();
  return v;
}

export function bool(el: XmlObject | undefined, name: string): boolean | undefined {
  const v = text(el, name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw malformed();
  return v === 'true';
}

function isElement(v: unknown): v is XmlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A document in the S3 Control namespace. */
export function controlXml(root: string, body: XmlObject): string {
  return toXml(root, body, S3_CONTROL_NS);
}

function publicAccessBlockXml(p: Partial<PublicAccessBlockSettings>): XmlObject {
  return {
    BlockPublicAcls: p.blockPublicAcls,
    IgnorePublicAcls: p.ignorePublicAcls,
    BlockPublicPolicy: p.blockPublicPolicy,
    RestrictPublicBuckets: p.restrictPublicBuckets,
  };
}

/** `MultiRegionAccessPointReport`, as Get and List return it. */
export function reportXml(r: MrapRecord): XmlObject {
  return {
    Name: r.name,
    Alias: r.alias,
    CreatedAt: xmlDate(r.createdAt),
    PublicAccessBlock: publicAccessBlockXml(r.publicAccessBlock),
    Status: r.status,
    Regions: {
      Region: r.regions.map((g) => ({ Bucket: g.bucket, Region: g.region, BucketAccountId: g.bucketAccountId })),
    },
  };
}

/** The `Details` echoed under `RequestParameters`, named after the request. */
function requestParametersXml(d: MrapRequestDetails): XmlObject {
  switch (d.operation) {
    case 'CreateMultiRegionAccessPoint':
      return {
        CreateMultiRegionAccessPointRequest: {
          Name: d.name,
          PublicAccessBlock: d.publicAccessBlock ? publicAccessBlockXml(d.publicAccessBlock) : undefined,
          Regions: { Region: d.regions.map((g) => ({ Bucket: g.bucket, BucketAccountId: g.bucketAccountId })) },
        },
      };
    case 'DeleteMultiRegionAccessPoint':
      return { DeleteMultiRegionAccessPointRequest: { Name: d.name } };
    case 'PutMultiRegionAccessPointPolicy':
      return { PutMultiRegionAccessPointPolicyRequest: { Name: d.name, Policy: d.policy } };
  }
}

/** `AsyncOperation`, as DescribeMultiRegionAccessPointOperation returns it. */
export function asyncOperationXml(r: MrapAsyncRequest): XmlObject {
  const details: XmlObject = {};
  if (r.regions && r.regions.length > 0) {
    details.MultiRegionAccessPointDetails = {
      Regions: { Region: r.regions.map((g) => ({ Name: g.name, RequestStatus: g.status })) },
    };
  }
  if (r.error) {
    details.ErrorDetails = {
      Code: r.error.code,
      Message: r.error.message,
      Resource: r.error.resource,
      RequestId: r.error.requestId,
    };
  }
  return {
    CreationTime: xmlDate(r.createdAt),
    Operation: r.details.operation,
    RequestTokenARN: r.arn,
    RequestParameters: requestParametersXml(r.details),
    RequestStatus: r.status,
    ResponseDetails: Object.keys(details).length > 0 ? details : undefined,
  };
}
