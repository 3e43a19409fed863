//! Service roles one step at a time, for reconciles that plan before they write (the janitor):
//! read a role with its trust policy and one inline policy, create it, replace its trust policy,
//! put its inline policy. A child of `aws::iam`, so it shares that module's readers.

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
