//! ECR: the per-env image repositories, their lifecycle policies, and emptying them on `down`.

use std::collections::BTreeSet;

use aws_sdk_ecr::types::{ImageIdentifier, Tag};

use super::reply::not_found_as_none;
use super::{Aws, AwsError, AwsResult};
use crate::model::{RepositoryState, Tags};

/// BatchDeleteImage accepts at most this many image ids per call.
const IMAGES_PER_DELETE: usize = 100;

/// Rounds of list-then-delete before giving up: an image index must go before the images it
/// references, so a second round picks up what the first could not delete yet.
const DELETE_ROUNDS: usize = 3;

impl Aws {
    /// The repository with its tags and lifecycle policy, or `None` if missing. The image count
    /// is left at 0: only `down` needs it (`describe_repository_with_images`), and listing the
    /// images of every repository on each `up` is a call per service for nothing. The policy is
    /// read by name alongside the repository, so only the tags (by ARN) wait for it.
    pub async fn describe_repository(&self, name: &str) -> AwsResult<Option<RepositoryState>> {
        let (repo, lifecycle_policy) =
            tokio::try_join!(self.repository(name), self.lifecycle_policy(name))?;
        let Some((arn, uri)) = repo else {
            return Ok(None);
        };
        let tags = self.repository_tags(name, &arn).await?;
        Ok(Some(RepositoryState {
            name: name.to_string(),
            arn,
            uri,
            lifecycle_policy,
            image_count: 0,
            tags,
        }))
    }

    /// `describe_repository` with the number of images (what `down` deletes first).
    pub async fn describe_repository_with_images(
        &self,
        name: &str,
    ) -> AwsResult<Option<RepositoryState>> {
        let (repo, images) =
            tokio::try_join!(self.describe_repository(name), self.list_image_ids(name))?;
        Ok(repo.map(|r| RepositoryState {
            image_count: images.len(),
            ..r
        }))
    }

    /// The repository's ARN and URI, or `None` if it does not exist.
    async fn repository(&self, name: &str) -> AwsResult<Option<(String, String)>> {
        let Some(out) = not_found_as_none(
            self.ecr
                .describe_repositories()
                .repository_names(name)
                .send()
                .await,
            |e| e.is_repository_not_found_exception(),
            "ecr:DescribeRepositories",
            name,
        )?
        else {
            return Ok(None);
        };
        let Some(repo) = out
            .repositories()
            .iter()
            .find(|r| r.repository_name() == Some(name))
        else {
            return Ok(None);
        };
        let missing = |field: &str| {
            AwsError::unexpected(
                "ecr:DescribeRepositories",
                name,
                format!("reply has no {field}"),
            )
        };
        let arn = repo
            .repository_arn()
            .ok_or_else(|| missing("repositoryArn"))?
            .to_string();
        let uri = repo
            .repository_uri()
            .ok_or_else(|| missing("repositoryUri"))?
            .to_string();
        Ok(Some((arn, uri)))
    }

    /// Names of every repository starting with `prefix` (ECR has no server-side prefix filter).
    pub async fn list_repository_names(&self, prefix: &str) -> AwsResult<Vec<String>> {
        let mut names = Vec::new();
        let mut pages = self.ecr.describe_repositories().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("ecr:DescribeRepositories", prefix, e))?;
            names.extend(
                page.repositories()
                    .iter()
                    .filter_map(|r| r.repository_name())
                    .filter(|n| n.starts_with(prefix))
                    .map(str::to_string),
            );
        }
        names.sort();
        Ok(names)
    }

    /// Creates a repository with mutable tags (each push of a branch reuses its tag).
    /// Fails if it already exists: the caller decides whether an existing one is ours.
    pub async fn create_repository(&self, name: &str, tags: &Tags) -> AwsResult<()> {
        let sdk_tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AwsError::unexpected("ecr:CreateRepository", name, e.to_string()))?;
        self.ecr
            .create_repository()
            .repository_name(name)
            .set_tags((!sdk_tags.is_empty()).then_some(sdk_tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecr:CreateRepository", name, e))?;
        Ok(())
    }

    /// Replaces the repository's lifecycle policy.
    pub async fn put_lifecycle_policy(&self, name: &str, policy_json: &str) -> AwsResult<()> {
        self.ecr
            .put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(policy_json)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecr:PutLifecyclePolicy", name, e))?;
        Ok(())
    }

    /// Every image id as (digest, tag); an image with several tags appears once per tag.
    /// A missing repository has no images.
    pub async fn list_image_ids(
        &self,
        name: &str,
    ) -> AwsResult<Vec<(Option<String>, Option<String>)>> {
        let mut pages = self
            .ecr
            .list_images()
            .repository_name(name)
            .into_paginator()
            .send();
        let mut ids = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => ids.extend(page.image_ids().iter().map(|id| {
                    (
                        id.image_digest().map(str::to_string),
                        id.image_tag().map(str::to_string),
                    )
                })),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_repository_not_found_exception()) =>
                {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(AwsError::from_sdk("ecr:ListImages", name, e)),
            }
        }
        Ok(ids)
    }

    /// The digest (`sha256:...`) of the image tagged `tag`, or `None` when the tag or the
    /// repository does not exist.
    pub async fn image_digest(&self, repo: &str, tag: &str) -> AwsResult<Option<String>> {
        let out = match self
            .ecr
            .describe_images()
            .repository_name(repo)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_image_not_found_exception() || e.is_repository_not_found_exception()
                }) =>
            {
                return Ok(None)
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "ecr:DescribeImages",
                    format!("{repo}:{tag}"),
                    e,
                ))
            }
        };
        Ok(out
            .image_details()
            .iter()
            .find_map(|d| d.image_digest())
            .map(str::to_string))
    }

    /// Deletes every image in the repository and returns how many were deleted; a missing
    /// repository counts as empty.
    pub async fn delete_all_images(&self, name: &str) -> AwsResult<usize> {
        let mut deleted = 0;
        let mut last_failure = None;
        for _ in 0..DELETE_ROUNDS {
            let ids = image_identifiers(self.list_image_ids(name).await?);
            if ids.is_empty() {
                return Ok(deleted);
            }
            let mut progress = false;
            for batch in ids.chunks(IMAGES_PER_DELETE) {
                let out = match self
                    .ecr
                    .batch_delete_image()
                    .repository_name(name)
                    .set_image_ids(Some(batch.to_vec()))
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_repository_not_found_exception()) =>
                    {
                        return Ok(deleted)
                    }
                    Err(e) => return Err(AwsError::from_sdk("ecr:BatchDeleteImage", name, e)),
                };
                let failures = out.failures();
                // Counted from what was sent: the reply's imageIds has one entry per removed
                // tag (none at all for an untagged image), not one per image.
                let removed = batch.len().saturating_sub(failures.len());
                progress |= removed > 0;
                deleted += removed;
                if let Some(f) = failures.first() {
                    last_failure = Some(format!(
                        "{} image(s) not deleted, e.g. {}: {}",
                        failures.len(),
                        f.failure_code().map(|c| c.as_str()).unwrap_or("unknown"),
                        f.failure_reason().unwrap_or("no reason given")
                    ));
                }
            }
            if !progress {
                break;
            }
        }
        if image_identifiers(self.list_image_ids(name).await?).is_empty() {
            return Ok(deleted);
        }
        Err(AwsError::unexpected(
            "ecr:BatchDeleteImage",
            name,
            last_failure.unwrap_or_else(|| "images remain after deleting".to_string()),
        ))
    }

    /// Deletes the repository and any images left in it; a missing repository is success.
    pub async fn delete_repository(&self, name: &str) -> AwsResult<()> {
        match self
            .ecr
            .delete_repository()
            .repository_name(name)
            .force(true)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_repository_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("ecr:DeleteRepository", name, e)),
        }
    }

    async fn repository_tags(&self, name: &str, arn: &str) -> AwsResult<Tags> {
        let out = self
            .ecr
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecr:ListTagsForResource", name, e))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    async fn lifecycle_policy(&self, name: &str) -> AwsResult<Option<String>> {
        match self
            .ecr
            .get_lifecycle_policy()
            .repository_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.lifecycle_policy_text().map(str::to_string)),
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_lifecycle_policy_not_found_exception()
                        || e.is_repository_not_found_exception()
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk("ecr:GetLifecyclePolicy", name, e)),
        }
    }
}

/// One identifier per image: by digest when known, which removes all of its tags at once.
fn image_identifiers(ids: Vec<(Option<String>, Option<String>)>) -> Vec<ImageIdentifier> {
    let mut digests = BTreeSet::new();
    let mut out = Vec::new();
    for (digest, tag) in ids {
        match (digest, tag) {
            (Some(d), _) => {
                if digests.insert(d.clone()) {
                    out.push(ImageIdentifier::builder().image_digest(d).build());
                }
            }
            (None, Some(t)) => out.push(ImageIdentifier::builder().image_tag(t).build()),
            (None, None) => {}
        }
    }
    out
}
