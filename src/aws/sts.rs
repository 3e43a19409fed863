//! STS: who envctl is running as. The account id goes into ARNs that AWS does not hand back
//! (SecureString parameters) and into ownership checks.

use super::{Aws, AwsError, AwsResult};

impl Aws {
    /// The account of the credentials in use (GetCallerIdentity needs no permission).
    pub async fn account_id(&self) -> AwsResult<String> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", "caller identity", e))?;
        out.account().map(str::to_string).ok_or_else(|| {
            AwsError::unexpected(
                "sts:GetCallerIdentity",
                "caller identity",
                "reply has no account id",
            )
        })
    }
}

/// Who the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
}

impl Aws {
    /// The caller's account and ARN (`doctor`).
    pub async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        const ACTION: &str = "sts:GetCallerIdentity";
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, "caller identity", e))?;
        let field = |v: Option<&str>, what: &str| {
            v.map(str::to_string).ok_or_else(|| {
                AwsError::unexpected(ACTION, "caller identity", format!("reply has no {what}"))
            })
        };
        Ok(CallerIdentity {
            account: field(out.account(), "account id")?,
            arn: field(out.arn(), "ARN")?,
        })
    }
}

/// The ARN partition of a region, for ARNs envctl has to build itself.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::partition;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
