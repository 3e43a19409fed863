//! S3: the per-app bucket image builds use, for uploaded source archives (`sources/`) and
//! CodeBuild's S3 cache (`cache/`). The only module that calls `aws_sdk_s3`.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types as s3;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;

use super::{Aws, AwsError, AwsResult};
use crate::model::Tags;

/// Uploaded source archives are only needed while their build runs.
pub const SOURCES_PREFIX: &str = "sources/";
pub const SOURCES_EXPIRE_DAYS: i32 = 7;
/// Cache entries CodeBuild has not rewritten in a month are unlikely to be hit again.
pub const CACHE_PREFIX: &str = "cache/";
pub const CACHE_EXPIRE_DAYS: i32 = 30;

/// S3's error code for "this bucket has no tags"; the SDK does not model it as a type, so the
/// stable code is what identifies it.
const NO_SUCH_TAG_SET: &str = "NoSuchTagSet";

impl Aws {
    /// The bucket's tags, `Some(empty)` for a bucket without tags, or `None` when the bucket does
    /// not exist. A bucket owned by another account answers 403 (an error), not `None`.
    pub async fn bucket_tags(&self, bucket: &str) -> AwsResult<Option<Tags>> {
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => return Ok(None),
            Err(e) => return Err(AwsError::from_sdk("s3:HeadBucket", bucket, e)),
        }
        match self.s3.get_bucket_tagging().bucket(bucket).send().await {
            Ok(out) => Ok(Some(
                out.tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            )),
            Err(e) if e.as_service_error().and_then(|e| e.code()) == Some(NO_SUCH_TAG_SET) => {
                Ok(Some(Tags::new()))
            }
            Err(e) => Err(AwsError::from_sdk("s3:GetBucketTagging", bucket, e)),
        }
    }

    /// Creates the bucket in this client's region, then tags it, blocks all public access and
    /// expires old sources and cache entries. Callers observe first with `bucket_tags`: a bucket
    /// someone else owns fails (BucketAlreadyExists), and so does one of ours outside us-east-1
    /// (BucketAlreadyOwnedByYou); in us-east-1 S3 answers 200 for ours and the settings are
    /// applied again.
    pub async fn create_bucket(&self, bucket: &str, tags: &Tags) -> AwsResult<()> {
        // us-east-1 is the default location and rejects being named explicitly.
        let location = (self.region != "us-east-1").then(|| {
            s3::CreateBucketConfiguration::builder()
                .location_constraint(s3::BucketLocationConstraint::from(self.region.as_str()))
                .build()
        });
        self.s3
            .create_bucket()
            .bucket(bucket)
            .set_create_bucket_configuration(location)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:CreateBucket", bucket, e))?;

        if !tags.is_empty() {
            const ACTION: &str = "s3:PutBucketTagging";
            let tagging = tagging(tags).map_err(|e| build_error(ACTION, bucket, e))?;
            self.s3
                .put_bucket_tagging()
                .bucket(bucket)
                .tagging(tagging)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(ACTION, bucket, e))?;
        }

        self.s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                s3::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:PutPublicAccessBlock", bucket, e))?;

        const ACTION: &str = "s3:PutBucketLifecycleConfiguration";
        let lifecycle = lifecycle().map_err(|e| build_error(ACTION, bucket, e))?;
        self.s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(lifecycle)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, bucket, e))?;
        Ok(())
    }

    /// Uploads `bytes` to `bucket/key` in one request (source archives are small).
    pub async fn put_object(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> AwsResult<()> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:PutObject", format!("{bucket}/{key}"), e))?;
        Ok(())
    }
}

fn tagging(tags: &Tags) -> Result<s3::Tagging, BuildError> {
    let set = tags
        .iter()
        .map(|(k, v)| s3::Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()?;
    s3::Tagging::builder().set_tag_set(Some(set)).build()
}

fn lifecycle() -> Result<s3::BucketLifecycleConfiguration, BuildError> {
    let rule = |id: &str, prefix: &str, days: i32| {
        s3::LifecycleRule::builder()
            .id(id)
            .filter(s3::LifecycleRuleFilter::builder().prefix(prefix).build())
            .status(s3::ExpirationStatus::Enabled)
            .expiration(s3::LifecycleExpiration::builder().days(days).build())
            .build()
    };
    s3::BucketLifecycleConfiguration::builder()
        .rules(rule(
            "envctl-expire-sources",
            SOURCES_PREFIX,
            SOURCES_EXPIRE_DAYS,
        )?)
        .rules(rule(
            "envctl-expire-cache",
            CACHE_PREFIX,
            CACHE_EXPIRE_DAYS,
        )?)
        .build()
}

fn build_error(action: &str, resource: &str, e: BuildError) -> AwsError {
    AwsError::unexpected(action, resource, format!("invalid request: {e}"))
}
