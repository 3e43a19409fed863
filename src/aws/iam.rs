//! IAM: the app's ECS task execution role, which lets Fargate pull images, write logs and
//! resolve the env's SSM parameters into container `secrets`, and the service roles that
//! Scheduler, EventBridge and CodeBuild assume to act for envctl.

use aws_sdk_iam::types::Tag;

use super::{Aws, AwsError, AwsResult};
use crate::model::{ownership_for, Ownership, Tags};

mod service_roles;
pub mod simulate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    pub name: String,
    pub arn: String,
    pub tags: Tags,
}

impl Aws {
    /// The role with its tags, or `None` if it does not exist.
    pub async fn get_role(&self, name: &str) -> AwsResult<Option<RoleState>> {
        match self.iam.get_role().role_name(name).send().await {
            // GetRole returns the role's tags itself (moto too, when there are any).
            Ok(out) => Ok(out.role().map(|role| RoleState {
                name: role.role_name().to_string(),
                arn: role.arn().to_string(),
                tags: role
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk("iam:GetRole", name, e)),
        }
    }

    /// Detaches managed policies, deletes inline ones, then the role; a missing role is success.
    pub async fn delete_role(&self, name: &str) -> AwsResult<()> {
        // IAM refuses to delete a role that still has policies.
        let Some(attached) = self.attached_policy_arns(name).await? else {
            return Ok(());
        };
        for arn in attached {
            match self
                .iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(&arn)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_no_such_entity_exception()) => {}
                Err(e) => return Err(AwsError::from_sdk("iam:DetachRolePolicy", name, e)),
            }
        }
        for policy in self.inline_policy_names(name).await? {
            match self
                .iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_no_such_entity_exception()) => {}
                Err(e) => return Err(AwsError::from_sdk("iam:DeleteRolePolicy", name, e)),
            }
        }
        match self.iam.delete_role().role_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("iam:DeleteRole", name, e)),
        }
    }

    /// The role someone created between envctl's GetRole and its CreateRole (another
    /// `bootstrap` of the app, usually), when it is ours.
    async fn raced_role(&self, name: &str, tags: &Tags) -> AwsResult<RoleState> {
        let role = self.get_role(name).await?.ok_or_else(|| {
            AwsError::unexpected(
                "iam:CreateRole",
                name,
                "role exists but GetRole cannot find it",
            )
        })?;
        ours(role, tags, "iam:CreateRole")
    }

    /// A role that `trusted_service` may assume. `None` when the role already exists.
    async fn create_role_for(
        &self,
        name: &str,
        trusted_service: &str,
        description: &str,
        tags: &Tags,
    ) -> AwsResult<Option<RoleState>> {
        let trust = trust_policy(trusted_service);
        let sdk_tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AwsError::unexpected("iam:CreateRole", name, e.to_string()))?;
        let out = match self
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .description(description)
            .set_tags((!sdk_tags.is_empty()).then_some(sdk_tags))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_entity_already_exists_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(AwsError::from_sdk("iam:CreateRole", name, e)),
        };
        let role = out
            .role()
            .ok_or_else(|| AwsError::unexpected("iam:CreateRole", name, "reply has no role"))?;
        Ok(Some(RoleState {
            name: role.role_name().to_string(),
            arn: role.arn().to_string(),
            // CreateRole echoes tags only sometimes (moto drops them); they are what we sent.
            tags: tags.clone(),
        }))
    }

    /// `None` when the role does not exist.
    async fn attached_policy_arns(&self, name: &str) -> AwsResult<Option<Vec<String>>> {
        let mut pages = self
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => arns.extend(
                    page.attached_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_string)),
                ),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_no_such_entity_exception()) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(AwsError::from_sdk("iam:ListAttachedRolePolicies", name, e)),
            }
        }
        Ok(Some(arns))
    }

    async fn inline_policy_names(&self, name: &str) -> AwsResult<Vec<String>> {
        let mut pages = self
            .iam
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => names.extend(page.policy_names().iter().cloned()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_no_such_entity_exception()) =>
                {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(AwsError::from_sdk("iam:ListRolePolicies", name, e)),
            }
        }
        Ok(names)
    }

    /// The inline policy's document as JSON, or `None` if the role has no such policy.
    async fn inline_policy(
        &self,
        role: &str,
        policy: &str,
    ) -> AwsResult<Option<serde_json::Value>> {
        let out = match self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(AwsError::from_sdk("iam:GetRolePolicy", role, e)),
        };
        Ok(policy_json(out.policy_document()))
    }

    /// The role and its trust policy as JSON (`None` if unreadable), or `None` if the role does
    /// not exist.
    async fn role_with_trust(
        &self,
        name: &str,
    ) -> AwsResult<Option<(RoleState, Option<serde_json::Value>)>> {
        match self.iam.get_role().role_name(name).send().await {
            Ok(out) => Ok(out.role().map(|role| {
                let state = RoleState {
                    name: role.role_name().to_string(),
                    arn: role.arn().to_string(),
                    tags: role
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect(),
                };
                (
                    state,
                    role.assume_role_policy_document().and_then(policy_json),
                )
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk("iam:GetRole", name, e)),
        }
    }
}

/// `role` when envctl tagged it for the app in `tags`; otherwise nothing may be written to it,
/// and that is a conflict (the role changed hands after the caller's own check).
fn ours(role: RoleState, tags: &Tags, action: &str) -> AwsResult<RoleState> {
    let whose = match ownership_for(&role.tags, tags) {
        Ownership::Ours => return Ok(role),
        Ownership::Foreign => "is not managed by envctl (no envctl:managed-by tag)".to_string(),
        Ownership::OtherEnv { app, .. } => format!("belongs to envctl app `{app}`"),
    };
    Err(AwsError::taken(
        action,
        &role.name,
        format!("the role {whose}; nothing was written to it"),
    ))
}

/// Lets `service` (e.g. `scheduler.amazonaws.com`) assume the role.
fn trust_policy(service: &str) -> serde_json::Value {
    crate::model::trust_policy(service)
}

/// A policy document as IAM returns it: URL-encoded JSON on AWS, plain JSON on moto. Anything
/// unreadable is `None`, which compares as different, so it gets rewritten.
fn policy_json(raw: &str) -> Option<serde_json::Value> {
    serde_json::from_str(raw)
        .ok()
        .or_else(|| percent_decode(raw).and_then(|d| serde_json::from_str(&d).ok()))
}

/// RFC 3986 percent-decoding, for IAM policy documents.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_iam_policy_documents() {
        assert_eq!(
            percent_decode("%7B%22Version%22%3A%222012-10-17%22%7D").as_deref(),
            Some(r#"{"Version":"2012-10-17"}"#)
        );
        assert_eq!(percent_decode("bad%2"), None);
    }
}
