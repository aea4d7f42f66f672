/**
 * @meridian/client: the multi-region client for S3 and Meridian, built as middleware on the
 * stock `@aws-sdk/client-s3`. It depends only on the AWS SDK, never on the server package.
 */
export const CLIENT_PACKAGE = '@meridian/client';
