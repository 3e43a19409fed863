//! SSM Parameter Store: an env's configuration and secrets. Secret values only ever travel into
//! AWS; envctl never reads a SecureString back, not even in its encrypted form, so nothing it
//! observes, prints or logs can contain one.

use std::collections::BTreeMap;

use aws_sdk_ssm::types::{
    ParameterMetadata, ParameterStringFilter, ParameterType, ResourceTypeForTagging, Tag,
};

use super::sts::partition;
use super::{Aws, AwsError, AwsResult};
use crate::model::{ParameterState, SecretString, Tags};

/// GetParameters and DeleteParameters accept at most this many names per call.
const NAMES_PER_CALL: usize = 10;

/// What to store in a parameter; the variant decides its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    /// A `String` parameter: visible in plans and diffs.
    Plain(String),
    /// A `SecureString` parameter, encrypted with the account's default `aws/ssm` key.
    Secure(SecretString),
}

impl Aws {
    /// Every parameter under `path`, at any depth, sorted by name. `account` completes the ARNs
    /// of SecureStrings, which are never fetched and so come back without one.
    pub async fn list_parameters(
        &self,
        path: &str,
        account: &str,
    ) -> AwsResult<Vec<ParameterState>> {
        let mut states = self.list_parameters_unresolved(path).await?;
        self.fill_parameter_arns(&mut states, account);
        Ok(states)
    }

    /// `list_parameters` without the account, so it need not wait for STS: the ARNs AWS does not
    /// return stay empty until `fill_parameter_arns`.
    pub async fn list_parameters_unresolved(&self, path: &str) -> AwsResult<Vec<ParameterState>> {
        // AWS rejects a Path filter value with a trailing slash (except the root itself).
        let trimmed = path.trim_end_matches('/');
        let path = if trimmed.is_empty() { "/" } else { trimmed };
        let filter = ParameterStringFilter::builder()
            .key("Path")
            .option("Recursive")
            .values(path)
            .build()
            .map_err(|e| AwsError::unexpected("ssm:DescribeParameters", path, e.to_string()))?;
        let metas = self.describe_parameters(filter, path).await?;
        self.parameter_states(metas).await
    }

    /// Completes the ARNs `list_parameters_unresolved` left empty.
    pub fn fill_parameter_arns(&self, states: &mut [ParameterState], account: &str) {
        for s in states.iter_mut().filter(|s| s.arn.is_empty()) {
            s.arn = self.parameter_arn(account, &s.name);
        }
    }

    /// One parameter's metadata (and value, for plain ones), or `None` when it does not exist.
    pub async fn get_parameter_meta(
        &self,
        name: &str,
        account: &str,
    ) -> AwsResult<Option<ParameterState>> {
        let mut state = self.get_parameter_meta_unresolved(name).await?;
        self.fill_parameter_arns(state.as_mut_slice(), account);
        Ok(state)
    }

    /// `get_parameter_meta` without the account (see `list_parameters_unresolved`).
    pub async fn get_parameter_meta_unresolved(
        &self,
        name: &str,
    ) -> AwsResult<Option<ParameterState>> {
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(name)
            .build()
            .map_err(|e| AwsError::unexpected("ssm:DescribeParameters", name, e.to_string()))?;
        let metas = self.describe_parameters(filter, name).await?;
        let mut states = self.parameter_states(metas).await?;
        Ok(states.pop())
    }

    /// A parameter's tags (kept apart from `list_parameters`: one call per parameter).
    pub async fn parameter_tags(&self, name: &str) -> AwsResult<Tags> {
        let out = self
            .ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm:ListTagsForResource", name, e))?;
        Ok(out
            .tag_list()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    /// Creates the parameter with `tags`, or overwrites its value and merges `tags` into the
    /// existing ones. The caller has already checked that an existing parameter is ours.
    pub async fn put_parameter(
        &self,
        name: &str,
        value: &ParameterValue,
        tags: &Tags,
    ) -> AwsResult<()> {
        let (kind, text) = match value {
            ParameterValue::Plain(v) => (ParameterType::String, v.as_str()),
            ParameterValue::Secure(s) => (ParameterType::SecureString, s.expose()),
        };
        let sdk_tags = ssm_tags(tags, name)?;
        let created = self
            .ssm
            .put_parameter()
            .name(name)
            .value(text)
            .r#type(kind.clone())
            .overwrite(false)
            .set_tags((!sdk_tags.is_empty()).then(|| sdk_tags.clone()))
            .send()
            .await;
        match created {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_parameter_already_exists()) => {}
            Err(e) => return Err(AwsError::from_sdk("ssm:PutParameter", name, e)),
        }
        // An existing parameter keeps the tags it was created with (owner, created-at): the
        // caller has already checked it is envctl's.
        self.ssm
            .put_parameter()
            .name(name)
            .value(text)
            .r#type(kind)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm:PutParameter", name, e))?;
        Ok(())
    }

    /// A SecureString's decrypted value, or `None` when the parameter does not exist. Only the
    /// database step calls this, for the admin URL's host (never printed, never stored).
    pub async fn get_secure_parameter(&self, name: &str) -> AwsResult<Option<SecretString>> {
        let out = self
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o
                .parameter()
                .and_then(|p| p.value())
                .map(|v| SecretString::new(v.to_string()))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_parameter_not_found()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk("ssm:GetParameter", name, e)),
        }
    }

    /// Adds or overwrites tags on a parameter.
    pub async fn tag_parameter(&self, name: &str, tags: &Tags) -> AwsResult<()> {
        self.ssm
            .add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .set_tags(Some(ssm_tags(tags, name)?))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm:AddTagsToResource", name, e))?;
        Ok(())
    }

    /// Deletes the named parameters; names that are already gone count as deleted.
    pub async fn delete_parameters(&self, names: &[String]) -> AwsResult<()> {
        for batch in names.chunks(NAMES_PER_CALL) {
            // DeleteParameters lists missing names as InvalidParameters instead of failing,
            // which is exactly the "already gone is success" rule.
            self.ssm
                .delete_parameters()
                .set_names(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ssm:DeleteParameters", batch.join(", "), e))?;
        }
        Ok(())
    }

    /// DescribeParameters never returns values, which is why envctl lists through it rather
    /// than GetParametersByPath.
    async fn describe_parameters(
        &self,
        filter: ParameterStringFilter,
        resource: &str,
    ) -> AwsResult<Vec<ParameterMetadata>> {
        let mut pages = self
            .ssm
            .describe_parameters()
            .parameter_filters(filter)
            .max_results(50)
            .into_paginator()
            .send();
        let mut metas = Vec::new();
        // Filtered DescribeParameters may return empty pages with a token: follow them all.
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("ssm:DescribeParameters", resource, e))?;
            metas.extend(page.parameters().iter().cloned());
        }
        Ok(metas)
    }

    /// Turns metadata into states, fetching values for plain parameters only. An ARN the reply
    /// leaves out (SecureStrings are never fetched) stays empty for `fill_parameter_arns`.
    async fn parameter_states(
        &self,
        metas: Vec<ParameterMetadata>,
    ) -> AwsResult<Vec<ParameterState>> {
        let mut states = BTreeMap::new();
        let mut plain = Vec::new();
        for meta in metas {
            let name = meta
                .name()
                .ok_or_else(|| {
                    AwsError::unexpected(
                        "ssm:DescribeParameters",
                        "parameter",
                        "reply has a parameter without a name",
                    )
                })?
                .to_string();
            let secure = !matches!(
                meta.r#type(),
                Some(ParameterType::String | ParameterType::StringList)
            );
            if !secure {
                plain.push(name.clone());
            }
            let arn = meta.arn().map(str::to_string).unwrap_or_default();
            states.insert(
                name.clone(),
                ParameterState {
                    name,
                    arn,
                    secure,
                    version: meta.version(),
                    value: None,
                    tags: Tags::new(),
                },
            );
        }
        for batch in plain.chunks(NAMES_PER_CALL) {
            // Only String/StringList names reach this call, so WithDecryption=false is belt and
            // braces: no SecureString is ever requested.
            let out = self
                .ssm
                .get_parameters()
                .set_names(Some(batch.to_vec()))
                .with_decryption(false)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ssm:GetParameters", batch.join(", "), e))?;
            for p in out.parameters() {
                let Some(state) = p.name().and_then(|n| states.get_mut(n)) else {
                    continue;
                };
                state.value = p.value().map(str::to_string);
                state.version = p.version();
                if let Some(arn) = p.arn() {
                    state.arn = arn.to_string();
                }
            }
            // Deleted between the two calls: report what exists now.
            for gone in out.invalid_parameters() {
                states.remove(gone);
            }
        }
        Ok(states.into_values().collect())
    }

    fn parameter_arn(&self, account: &str, name: &str) -> String {
        let sep = if name.starts_with('/') { "" } else { "/" };
        format!(
            "arn:{}:ssm:{}:{account}:parameter{sep}{name}",
            partition(&self.region),
            self.region
        )
    }
}

fn ssm_tags(tags: &Tags, name: &str) -> AwsResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::unexpected("ssm:PutParameter", name, e.to_string()))
        })
        .collect()
}
