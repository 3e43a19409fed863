//! EventBridge rules on the default bus: the scheduled rule and targets that run the janitor.
//! The only module that calls `aws_sdk_eventbridge`.

use aws_sdk_eventbridge::types as eb;
use aws_smithy_types::error::operation::BuildError;

use super::reply::not_found_as_none;
use super::{Aws, AwsError, AwsResult};
use crate::model::{RuleState, RuleTarget, Tags};

/// RemoveTargets accepts at most 100 ids per call.
const REMOVE_TARGETS_BATCH: usize = 100;

impl Aws {
    /// The rule with its tags, or `None` when it does not exist.
    pub async fn describe_rule(&self, name: &str) -> AwsResult<Option<RuleState>> {
        let Some(out) = not_found_as_none(
            self.events.describe_rule().name(name).send().await,
            |e| e.is_resource_not_found_exception(),
            "events:DescribeRule",
            name,
        )?
        else {
            return Ok(None);
        };
        let arn = out
            .arn()
            .ok_or_else(|| AwsError::unexpected("events:DescribeRule", name, "reply has no ARN"))?
            .to_string();
        // Deleted between the two calls.
        let Some(tags) = self.rule_tags(&arn).await? else {
            return Ok(None);
        };
        Ok(Some(RuleState {
            name: out.name().unwrap_or(name).to_string(),
            arn,
            schedule_expression: out.schedule_expression().map(str::to_string),
            state: out
                .state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            tags,
        }))
    }

    /// Creates or updates an enabled scheduled rule and returns its ARN. PutRule ignores tags
    /// when the rule already exists, so tags that are missing or differ are added with
    /// TagResource afterwards (other tags stay).
    pub async fn put_rule(
        &self,
        name: &str,
        schedule_expression: &str,
        description: &str,
        tags: &Tags,
    ) -> AwsResult<String> {
        const ACTION: &str = "events:PutRule";
        let sdk_tags = tags_to_sdk(tags).map_err(|e| build_error(ACTION, name, e))?;
        let out = self
            .events
            .put_rule()
            .name(name)
            .schedule_expression(schedule_expression)
            .description(description)
            .state(eb::RuleState::Enabled)
            .set_tags((!sdk_tags.is_empty()).then_some(sdk_tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        let arn = out
            .rule_arn()
            .ok_or_else(|| AwsError::unexpected(ACTION, name, "reply has no rule ARN"))?
            .to_string();
        if tags.is_empty() {
            return Ok(arn);
        }

        let current = self.rule_tags(&arn).await?.ok_or_else(|| {
            AwsError::unexpected(ACTION, name, "rule disappeared right after PutRule")
        })?;
        let missing: Tags = tags
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !missing.is_empty() {
            const TAG: &str = "events:TagResource";
            let sdk_tags = tags_to_sdk(&missing).map_err(|e| build_error(TAG, &arn, e))?;
            self.events
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(sdk_tags))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(TAG, &arn, e))?;
        }
        Ok(arn)
    }

    /// The rule's targets; none when the rule does not exist.
    pub async fn list_targets(&self, rule: &str) -> AwsResult<Vec<RuleTarget>> {
        // ListTargetsByRule has no paginator in the SDK.
        let mut targets = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = match self
                .events
                .list_targets_by_rule()
                .rule(rule)
                .set_next_token(token.take())
                .send()
                .await
            {
                Ok(out) => out,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(AwsError::from_sdk("events:ListTargetsByRule", rule, e)),
            };
            targets.extend(out.targets().iter().map(|t| RuleTarget {
                id: t.id().to_string(),
                arn: t.arn().to_string(),
                role_arn: t.role_arn().map(str::to_string),
            }));
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(targets)
    }

    /// Adds the target, or replaces the rule's target with the same id.
    pub async fn put_target(&self, rule: &str, target: &RuleTarget) -> AwsResult<()> {
        const ACTION: &str = "events:PutTargets";
        let sdk_target = eb::Target::builder()
            .id(&target.id)
            .arn(&target.arn)
            .set_role_arn(target.role_arn.clone())
            .build()
            .map_err(|e| build_error(ACTION, rule, e))?;
        let out = self
            .events
            .put_targets()
            .rule(rule)
            .targets(sdk_target)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, rule, e))?;
        // PutTargets answers 200 even when an entry failed; the failure is in the body.
        if let Some(failed) = out.failed_entries().first() {
            return Err(entry_error(
                ACTION,
                rule,
                failed.target_id(),
                failed.error_code(),
                failed.error_message(),
            ));
        }
        Ok(())
    }

    /// Removes targets by id; ids the rule does not have, or a missing rule, are success.
    pub async fn remove_targets(&self, rule: &str, ids: &[String]) -> AwsResult<()> {
        const ACTION: &str = "events:RemoveTargets";
        for batch in ids.chunks(REMOVE_TARGETS_BATCH) {
            let out = match self
                .events
                .remove_targets()
                .rule(rule)
                .set_ids(Some(batch.to_vec()))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    return Ok(())
                }
                Err(e) => return Err(AwsError::from_sdk(ACTION, rule, e)),
            };
            if let Some(failed) = out.failed_entries().first() {
                return Err(entry_error(
                    ACTION,
                    rule,
                    failed.target_id(),
                    failed.error_code(),
                    failed.error_message(),
                ));
            }
        }
        Ok(())
    }

    /// Removes the rule's targets (EventBridge refuses to delete a rule that has any), then the
    /// rule. A missing rule is success.
    pub async fn delete_rule(&self, name: &str) -> AwsResult<()> {
        let ids: Vec<String> = self
            .list_targets(name)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        self.remove_targets(name, &ids).await?;
        match self.events.delete_rule().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("events:DeleteRule", name, e)),
        }
    }

    /// `None` when the rule does not exist.
    async fn rule_tags(&self, arn: &str) -> AwsResult<Option<Tags>> {
        match self
            .events
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk("events:ListTagsForResource", arn, e)),
        }
    }
}

fn tags_to_sdk(tags: &Tags) -> Result<Vec<eb::Tag>, BuildError> {
    tags.iter()
        .map(|(k, v)| eb::Tag::builder().key(k).value(v).build())
        .collect()
}

/// A per-entry failure in a 200 reply, kept as typed as the service gives it (its error code).
fn entry_error(
    action: &str,
    rule: &str,
    target_id: Option<&str>,
    code: Option<&str>,
    message: Option<&str>,
) -> AwsError {
    let mut err = AwsError::unexpected(
        action,
        format!("{rule}/{}", target_id.unwrap_or("?")),
        message.unwrap_or("the target was not accepted"),
    );
    err.code = code.map(str::to_string);
    err
}

fn build_error(action: &str, resource: &str, e: BuildError) -> AwsError {
    AwsError::unexpected(action, resource, format!("invalid request: {e}"))
}
