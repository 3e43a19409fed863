//! Service roles one step at a time, for reconciles that plan before they write (bootstrap, the
//! janitor): read a role with its trust policy, one inline policy and its managed attachments;
//! create it, replace its trust policy, put its inline policy, attach a managed policy. Deciding
//! what to write is the planner's. A child of `aws::iam`, so it shares that module's readers.

use serde_json::Value;

use super::{trust_policy, RoleState};
use crate::aws::{Aws, AwsError, AwsResult};
use crate::model::{ServiceRoleState, Tags};

impl Aws {
    /// The role with its trust policy and its inline policy `policy_name`, or `None` when there
    /// is no such role.
    pub async fn service_role(
        &self,
        name: &str,
        policy_name: &str,
    ) -> AwsResult<Option<ServiceRoleState>> {
        let Some((role, trust_policy)) = self.role_with_trust(name).await? else {
            return Ok(None);
        };
        let policy = self.inline_policy(name, policy_name).await?;
        Ok(Some(ServiceRoleState {
            name: role.name,
            arn: role.arn,
            tags: role.tags,
            trust_policy,
            policy,
        }))
    }

    /// Creates a role that `trusted_service` may assume, tagged `tags`, without policies.
    /// `None` when the name is taken (created by someone else since it was observed).
    pub async fn create_service_role(
        &self,
        name: &str,
        trusted_service: &str,
        tags: &Tags,
    ) -> AwsResult<Option<RoleState>> {
        let description = format!("Service role for {trusted_service} managed by envctl");
        self.create_role_for(name, trusted_service, &description, tags)
            .await
    }

    /// The ARNs of the managed policies attached to the role; empty when there is no such role.
    pub async fn attached_role_policies(&self, name: &str) -> AwsResult<Vec<String>> {
        Ok(self.attached_policy_arns(name).await?.unwrap_or_default())
    }

    /// Creates a role that `trusted_service` may assume, tagged `tags`, without policies. When
    /// the name was taken since it was observed (by another run of the same command, usually),
    /// the role found is returned if it carries the app's tags and is a conflict otherwise, so
    /// nothing is written to a role that is not the app's.
    pub async fn create_role_or_ours(
        &self,
        name: &str,
        trusted_service: &str,
        description: &str,
        tags: &Tags,
    ) -> AwsResult<RoleState> {
        match self
            .create_role_for(name, trusted_service, description, tags)
            .await?
        {
            Some(role) => Ok(role),
            None => self.raced_role(name, tags).await,
        }
    }

    /// Attaches the managed policy `policy_arn` (a no-op when it is attached already).
    pub async fn attach_role_policy(&self, name: &str, policy_arn: &str) -> AwsResult<()> {
        self.iam
            .attach_role_policy()
            .role_name(name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:AttachRolePolicy", name, e))?;
        Ok(())
    }

    /// Makes `trusted_service` the only principal that may assume the role.
    pub async fn put_trust_policy(&self, name: &str, trusted_service: &str) -> AwsResult<()> {
        self.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust_policy(trusted_service).to_string())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:UpdateAssumeRolePolicy", name, e))?;
        Ok(())
    }

    /// Creates or replaces the role's inline policy `policy_name`.
    pub async fn put_role_policy(
        &self,
        name: &str,
        policy_name: &str,
        document: &Value,
    ) -> AwsResult<()> {
        self.iam
            .put_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .policy_document(document.to_string())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:PutRolePolicy", name, e))?;
        Ok(())
    }
}
