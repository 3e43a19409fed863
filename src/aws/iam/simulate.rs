//! IAM policy simulation (`doctor`): would the caller be allowed these actions on these
//! resources? A file of its own beside `iam.rs`, which owns the roles envctl manages.

use aws_sdk_iam::types::PolicyEvaluationDecisionType;

use crate::aws::{Aws, AwsError, AwsResult};

/// One action's simulated decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: String,
    pub resource: String,
    pub allowed: bool,
}

impl Aws {
    /// SimulatePrincipalPolicy for `principal_arn` (a user or role ARN, not an STS session):
    /// each of `actions` on each of `resources`.
    pub async fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        actions: &[String],
        resources: &[String],
    ) -> AwsResult<Vec<Decision>> {
        const ACTION: &str = "iam:SimulatePrincipalPolicy";
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let reply = self
                .iam
                .simulate_principal_policy()
                .policy_source_arn(principal_arn)
                .set_action_names(Some(actions.to_vec()))
                .set_resource_arns(Some(resources.to_vec()))
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(ACTION, principal_arn, e))?;
            for r in reply.evaluation_results() {
                out.push(Decision {
                    action: r.eval_action_name().to_string(),
                    resource: r.eval_resource_name().unwrap_or("*").to_string(),
                    allowed: *r.eval_decision() == PolicyEvaluationDecisionType::Allowed,
                });
            }
            match reply.marker() {
                Some(m) if reply.is_truncated() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }
}
