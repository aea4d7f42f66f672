import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { S3Error } from '../core/errors.ts';
import type { Grant, Permission } from '../storage/types.ts';
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  CANNED_ACLS,
  LOG_DELIVERY,
  MAX_GRANTS,
  XSI_NS,
  accessControlPolicyXml,
  aclFromHeaders,
  aclSourceFromHeaders,
  aclSourceFromRequest,
  cannedGrants,
  isCanonicalId,
  parseAccessControlPolicy,
  parseGrantHeader,
  privateGrants,
  resolveAcl,
} from './acl.ts';
import { toXml } from './xml.ts';

const OWNER = 'a'.repeat(64);
const OTHER = '0123456789abcdef'.repeat(4);
const THIRD = 'f'.repeat(64);

function throwsS3(fn: () => unknown, code: string, message?: string, fields?: Record<string, string>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof S3Error, `expected an S3Error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.equal(err.message, message);
    if (fields !== undefined) assert.deepEqual(err.fields, fields);
    return true;
  });
}

const user = (id: string, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });

const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';

function policy(grants: string, owner = `<Owner><ID>${OWNER}</ID></Owner>`): string {
  return `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${owner}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
}

function grantXml(type: string, inner: string, permission = 'READ'): string {
  return `<Grant><Grantee xmlns:xsi="${XSI_NS}" xsi:type="${type}">${inner}</Grantee><Permission>${permission}</Permission></Grant>`;
}

describe('cannedGrants', () => {
  const expected: Record<string, Grant[]> = {
    private: [user(OWNER, 'FULL_CONTROL')],
    'public-read': [user(OWNER, 'FULL_CONTROL'), group(ALL_USERS, 'READ')],
    'public-read-write': [user(OWNER, 'FULL_CONTROL'), group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')],
    'authenticated-read': [user(OWNER, 'FULL_CONTROL'), group(AUTHENTICATED_USERS, 'READ')],
    'aws-exec-read': [user(OWNER, 'FULL_CONTROL')],
    'bucket-owner-read': [user(OWNER, 'FULL_CONTROL'), user(OTHER, 'READ')],
    'bucket-owner-full-control': [user(OWNER, 'FULL_CONTROL'), user(OTHER, 'FULL_CONTROL')],
    'log-delivery-write': [user(OWNER, 'FULL_CONTROL'), group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')],
  };

  it('covers every canned ACL', () => {
    assert.deepEqual(new Set(Object.keys(expected)), CANNED_ACLS);
  });

  for (const [name, grants] of Object.entries(expected)) {
    it(`expands ${name} for an object whose bucket has another owner`, () => {
      assert.deepEqual(cannedGrants(name, OWNER, OTHER), grants);
    });
  }

  it('grants the bucket owner nothing more when it owns the object (or it is a bucket)', () => {
    assert.deepEqual(cannedGrants('bucket-owner-read', OWNER, OWNER), [user(OWNER, 'FULL_CONTROL')]);
    assert.deepEqual(cannedGrants('bucket-owner-full-control', OWNER), [user(OWNER, 'FULL_CONTROL')]);
  });

  it('private is the default ACL', () => {
    assert.deepEqual(privateGrants(OWNER), [user(OWNER, 'FULL_CONTROL')]);
  });
});

describe('isCanonicalId', () => {
  it('is 64 hexadecimal digits', () => {
    assert.ok(isCanonicalId(OWNER));
    assert.ok(isCanonicalId(OTHER.toUpperCase()));
    for (const bad of ['', 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), ` ${'a'.repeat(63)}`, '111122223333']) {
      assert.ok(!isCanonicalId(bad), bad);
    }
  });
});

describe('parseGrantHeader', () => {
  it('reads quoted and bare values of id and uri, in order', () => {
    assert.deepEqual(parseGrantHeader('x-amz-grant-read', 'READ', `id="${OWNER}", uri="${ALL_USERS}",id=${OTHER}`), [
      user(OWNER, 'READ'),
      group(ALL_USERS, 'READ'),
      user(OTHER, 'READ'),
    ]);
  });

  it('stores canonical ids in lower case and allows any case of the type name', () => {
    assert.deepEqual(parseGrantHeader('x-amz-grant-write', 'WRITE', `ID="${OTHER.toUpperCase()}"`), [user(OTHER, 'WRITE')]);
    assert.deepEqual(parseGrantHeader('x-amz-grant-write', 'WRITE', ` Uri = "${LOG_DELIVERY}" `), [group(LOG_DELIVERY, 'WRITE')]);
  });

  it('refuses a bad id or group uri, naming the argument', () => {
    throwsS3(() => parseGrantHeader('x-amz-grant-read', 'READ', 'id="1234"'), 'InvalidArgument', 'Invalid id', {
      ArgumentName: 'id',
      ArgumentValue: '1234',
    });
    const uri = 'http://acs.amazonaws.com/groups/global/Nobody';
    throwsS3(() => parseGrantHeader('x-amz-grant-read', 'READ', `uri="${uri}"`), 'InvalidArgument', 'Invalid group uri', {
      ArgumentName: 'uri',
      ArgumentValue: uri,
    });
  });

  for (const entry of ['account="x"', 'nonsense', '', `id"${OWNER}"`]) {
    it(`refuses the entry ${JSON.stringify(entry)} as an unrecognised format`, () => {
      throwsS3(
        () => parseGrantHeader('x-amz-grant-read-acp', 'READ_ACP', entry),
        'InvalidArgument',
        'Argument format not recognized',
        { ArgumentName: 'x-amz-grant-read-acp', ArgumentValue: entry },
      );
    });
  }

  it('cannot resolve an e-mail address to an account', () => {
    throwsS3(
      () => parseGrantHeader('x-amz-grant-read', 'READ', 'emailAddress="user@example.com"'),
      'UnresolvableGrantByEmailAddress',
      undefined,
      { EmailAddress: 'user@example.com' },
    );
  });

  it('reads back any list of valid grantees it is given', () => {
    const grantee = fc.oneof(
      fc.stringMatching(/^[0-9a-f]{64}$/).map((id) => ({ text: `id="${id}"`, grant: user(id, 'READ') })),
      fc.constantFrom(ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY).map((uri) => ({ text: `uri=${uri}`, grant: group(uri, 'READ') })),
    );
    fc.assert(
      fc.property(fc.array(grantee, { minLength: 1, maxLength: 5 }), (list) => {
        const header = list.map((g) => g.text).join(', ');
        assert.deepEqual(
          parseGrantHeader('x-amz-grant-read', 'READ', header),
          list.map((g) => g.grant),
        );
      }),
    );
  });
});

describe('aclFromHeaders', () => {
  it('is undefined when no ACL header is given', () => {
    assert.equal(aclFromHeaders({ 'content-type': 'text/plain' }, OWNER, OTHER), undefined);
  });

  for (const name of CANNED_ACLS) {
    it(`expands x-amz-acl: ${name} for the owner and the bucket owner`, () => {
      assert.deepEqual(aclFromHeaders({ 'x-amz-acl': name }, OWNER, OTHER), cannedGrants(name, OWNER, OTHER));
    });
  }

  it('refuses an unknown canned ACL as InvalidArgument naming x-amz-acl', () => {
    for (const bad of ['public', 'Private', '', 'public-read ']) {
      throwsS3(() => aclFromHeaders({ 'x-amz-acl': bad }, OWNER, OWNER), 'InvalidArgument', undefined, {
        ArgumentName: 'x-amz-acl',
        ArgumentValue: bad,
      });
    }
  });

  it('collects every grant header, without adding the owner', () => {
    const headers: IncomingHttpHeaders = {
      'x-amz-grant-read': `uri="${ALL_USERS}"`,
      'x-amz-grant-write': `id="${OTHER}"`,
      'x-amz-grant-read-acp': `id="${THIRD}"`,
      'x-amz-grant-write-acp': `id="${THIRD}"`,
      'x-amz-grant-full-control': `id="${OTHER}"`,
    };
    const grants = aclFromHeaders(headers, OWNER, OWNER);
    assert.deepEqual(
      new Set(grants!.map((g) => JSON.stringify(g))),
      new Set(
        [
          group(ALL_USERS, 'READ'),
          user(OTHER, 'WRITE'),
          user(THIRD, 'READ_ACP'),
          user(THIRD, 'WRITE_ACP'),
          user(OTHER, 'FULL_CONTROL'),
        ].map((g) => JSON.stringify(g)),
      ),
    );
    assert.equal(grants!.length, 5);
  });

  it('refuses a canned ACL together with grant headers', () => {
    for (const grant of ['x-amz-grant-read', 'x-amz-grant-full-control', 'x-amz-grant-write-acp']) {
      throwsS3(
        () => aclFromHeaders({ 'x-amz-acl': 'private', [grant]: `id="${OTHER}"` }, OWNER, OWNER),
        'InvalidRequest',
        'Specifying both Canned ACLs and Header Grants is not allowed',
      );
    }
    // Even when the canned value is itself unknown: the conflict is what S3 names.
    throwsS3(() => aclFromHeaders({ 'x-amz-acl': 'nope', 'x-amz-grant-read': 'x' }, OWNER, OWNER), 'InvalidRequest');
  });

  it('refuses more than 100 grants', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `id="${i.toString(16).padStart(64, '0')}"`).join(',');
    assert.equal(aclFromHeaders({ 'x-amz-grant-read': ids(MAX_GRANTS) }, OWNER, OWNER)!.length, MAX_GRANTS);
    throwsS3(() => aclFromHeaders({ 'x-amz-grant-read': ids(MAX_GRANTS + 1) }, OWNER, OWNER), 'MalformedACLError');
  });
});

describe('aclSourceFromRequest (Put*Acl)', () => {
  const body = policy(grantXml('Group', `<URI>${ALL_USERS}</URI>`));

  it('takes the headers or the body', () => {
    assert.deepEqual(aclSourceFromRequest({ 'x-amz-acl': 'public-read' }, ''), { kind: 'canned', name: 'public-read' });
    assert.deepEqual(aclSourceFromRequest({}, body), { kind: 'grants', grants: [group(ALL_USERS, 'READ')] });
  });

  it('refuses both a header and a body with UnexpectedContent', () => {
    throwsS3(() => aclSourceFromRequest({ 'x-amz-acl': 'private' }, body), 'UnexpectedContent', 'This request does not support content');
    throwsS3(() => aclSourceFromRequest({ 'x-amz-grant-read': `id="${OTHER}"` }, body), 'UnexpectedContent');
  });

  it('refuses neither with MissingSecurityHeader naming x-amz-acl', () => {
    for (const empty of ['', '  \n']) {
      throwsS3(() => aclSourceFromRequest({}, empty), 'MissingSecurityHeader', 'Your request was missing a required header', {
        MissingHeaderName: 'x-amz-acl',
      });
    }
  });

  it('resolves canned ACLs against the owner when it is known', () => {
    const source = aclSourceFromRequest({ 'x-amz-acl': 'bucket-owner-full-control' }, '');
    assert.deepEqual(resolveAcl(source, OWNER, OTHER), [user(OWNER, 'FULL_CONTROL'), user(OTHER, 'FULL_CONTROL')]);
    const explicit = aclSourceFromHeaders({ 'x-amz-grant-read': `id="${THIRD}"` })!;
    assert.deepEqual(resolveAcl(explicit, OWNER, OTHER), [user(THIRD, 'READ')]);
  });
});

describe('parseAccessControlPolicy', () => {
  it('reads every grantee type and permission', () => {
    const xml = policy(
      grantXml('CanonicalUser', `<ID>${OWNER}</ID><DisplayName>me</DisplayName>`, 'FULL_CONTROL') +
        grantXml('CanonicalUser', `<ID>${OTHER.toUpperCase()}</ID>`, 'WRITE_ACP') +
        grantXml('Group', `<URI>${ALL_USERS}</URI>`, 'READ') +
        grantXml('Group', `<URI>${AUTHENTICATED_USERS}</URI>`, 'READ_ACP') +
        grantXml('Group', `<URI>${LOG_DELIVERY}</URI>`, 'WRITE'),
      `<Owner><ID>${OWNER}</ID><DisplayName>me</DisplayName></Owner>`,
    );
    assert.deepEqual(parseAccessControlPolicy(xml), {
      owner: OWNER,
      grants: [
        user(OWNER, 'FULL_CONTROL'),
        user(OTHER, 'WRITE_ACP'),
        group(ALL_USERS, 'READ'),
        group(AUTHENTICATED_USERS, 'READ_ACP'),
        group(LOG_DELIVERY, 'WRITE'),
      ],
    });
  });

  it('reads an empty access control list, and a document with a declaration and whitespace', () => {
    assert.deepEqual(parseAccessControlPolicy(policy('')).grants, []);
    const spaced = `<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy>\n  <Owner>\n    <ID>${OWNER}</ID>\n  </Owner>\n  <AccessControlList>\n    ${grantXml('Group', `\n<URI>${ALL_USERS}</URI>\n`)}\n  </AccessControlList>\n</AccessControlPolicy>\n`;
    assert.deepEqual(parseAccessControlPolicy(spaced).grants, [group(ALL_USERS, 'READ')]);
  });

  it('accepts any prefix bound to the XML Schema instance namespace', () => {
    const xml = policy(
      `<Grant><Grantee xmlns:i="${XSI_NS}" i:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>`,
    );
    assert.deepEqual(parseAccessControlPolicy(xml).grants, [group(ALL_USERS, 'READ')]);
  });

  const malformed: [string, string][] = [
    ['not XML', 'acl'],
    ['an unfinished document', '<AccessControlPolicy><Owner>'],
    ['another root', '<Policy></Policy>'],
    ['no owner', `<AccessControlPolicy><AccessControlList/></AccessControlPolicy>`],
    ['an owner without an id', policy('', '<Owner><DisplayName>x</DisplayName></Owner>')],
    ['no access control list', `<AccessControlPolicy><Owner><ID>${OWNER}</ID></Owner></AccessControlPolicy>`],
    ['an unknown permission', policy(grantXml('Group', `<URI>${ALL_USERS}</URI>`, 'DELETE'))],
    ['a lower-case permission', policy(grantXml('Group', `<URI>${ALL_USERS}</URI>`, 'read'))],
    ['a grant without a permission', policy(`<Grant><Grantee xmlns:xsi="${XSI_NS}" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee></Grant>`)],
    ['a grant without a grantee', policy('<Grant><Permission>READ</Permission></Grant>')],
    ['an unknown grantee type', policy(grantXml('Account', `<ID>${OWNER}</ID>`))],
    ['a grantee without a type', policy(`<Grant><Grantee><ID>${OWNER}</ID></Grantee><Permission>READ</Permission></Grant>`)],
    ['two permissions', policy(`<Grant><Grantee xmlns:xsi="${XSI_NS}" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission><Permission>WRITE</Permission></Grant>`)],
  ];
  for (const [name, xml] of malformed) {
    it(`refuses ${name} as MalformedACLError`, () => {
      throwsS3(() => parseAccessControlPolicy(xml), 'MalformedACLError', MALFORMED);
    });
  }

  it('refuses more than 100 grants', () => {
    const grant = grantXml('Group', `<URI>${ALL_USERS}</URI>`);
    assert.equal(parseAccessControlPolicy(policy(grant.repeat(MAX_GRANTS))).grants.length, MAX_GRANTS);
    throwsS3(() => parseAccessControlPolicy(policy(grant.repeat(MAX_GRANTS + 1))), 'MalformedACLError');
  });

  it('refuses bad ids and group uris as InvalidArgument naming the element', () => {
    throwsS3(() => parseAccessControlPolicy(policy('', '<Owner><ID>me</ID></Owner>')), 'InvalidArgument', 'Invalid id', {
      ArgumentName: 'CanonicalUser/ID',
      ArgumentValue: 'me',
    });
    throwsS3(() => parseAccessControlPolicy(policy(grantXml('CanonicalUser', '<ID>123</ID>'))), 'InvalidArgument', 'Invalid id', {
      ArgumentName: 'CanonicalUser/ID',
      ArgumentValue: '123',
    });
    throwsS3(() => parseAccessControlPolicy(policy(grantXml('CanonicalUser', ''))), 'InvalidArgument', 'Invalid id', {
      ArgumentName: 'CanonicalUser/ID',
      ArgumentValue: '',
    });
    throwsS3(
      () => parseAccessControlPolicy(policy(grantXml('Group', '<URI>http://example.com/all</URI>'))),
      'InvalidArgument',
      'Invalid group uri',
      { ArgumentName: 'Group/URI', ArgumentValue: 'http://example.com/all' },
    );
  });

  it('cannot resolve an e-mail grantee', () => {
    throwsS3(
      () => parseAccessControlPolicy(policy(grantXml('AmazonCustomerByEmail', '<EmailAddress>a@example.com</EmailAddress>'))),
      'UnresolvableGrantByEmailAddress',
    );
  });
});

describe('accessControlPolicyXml', () => {
  it('writes the owner and the grants with their xsi:type, the owner grant with its display name', () => {
    const xml = toXml(
      'AccessControlPolicy',
      accessControlPolicyXml({ id: OWNER, displayName: 'me' }, [
        user(OWNER, 'FULL_CONTROL'),
        user(OTHER, 'READ'),
        group(ALL_USERS, 'READ'),
        { grantee: { type: 'AmazonCustomerByEmail', email: 'a@example.com' }, permission: 'WRITE' },
      ]),
    );
    const grantee = (type: string) => `<Grantee xmlns:xsi="${XSI_NS}" xsi:type="${type}">`;
    assert.ok(xml.includes(`<Owner><ID>${OWNER}</ID><DisplayName>me</DisplayName></Owner>`), xml);
    assert.ok(
      xml.includes(
        `<AccessControlList><Grant>${grantee('CanonicalUser')}<ID>${OWNER}</ID><DisplayName>me</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
          `<Grant>${grantee('CanonicalUser')}<ID>${OTHER}</ID></Grantee><Permission>READ</Permission></Grant>` +
          `<Grant>${grantee('Group')}<URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>` +
          `<Grant>${grantee('AmazonCustomerByEmail')}<EmailAddress>a@example.com</EmailAddress></Grantee><Permission>WRITE</Permission></Grant></AccessControlList>`,
      ),
      xml,
    );
  });

  it('is read back by parseAccessControlPolicy for any ACL of users and groups', () => {
    const grant = fc.record({
      grantee: fc.oneof(
        fc.stringMatching(/^[0-9a-f]{64}$/).map((id) => ({ type: 'CanonicalUser' as const, id })),
        fc.constantFrom(ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY).map((uri) => ({ type: 'Group' as const, uri })),
      ),
      permission: fc.constantFrom<Permission>('FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'),
    });
    fc.assert(
      fc.property(fc.array(grant.map((g): Grant => ({ grantee: { ...g.grantee }, permission: g.permission })), { maxLength: 20 }), (grants) => {
        const xml = toXml('AccessControlPolicy', accessControlPolicyXml({ id: OWNER, displayName: 'me' }, grants));
        assert.deepEqual(parseAccessControlPolicy(xml), { owner: OWNER, grants });
      }),
    );
  });
});
