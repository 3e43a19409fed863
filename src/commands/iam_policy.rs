//! `envctl iam-policy`: print the policy JSON on stdout (it is the data, in either format).

use crate::cli::IamPolicyArgs;
use crate::error::{exit, Result};
use crate::ops::iam_policy::{self, IamPolicyOptions};
use crate::ops::Session;

pub fn run(session: &Session, args: IamPolicyArgs) -> Result<i32> {
    let cfg = session.load_config(&[])?;
    let (policy, placeholders) = iam_policy::iam_policy(
        &cfg,
        &IamPolicyOptions {
            command: args.command,
            account: args.account,
            region: session.globals.region.clone(),
        },
    )?;
    let p = &session.printer;
    p.text(serde_json::to_string_pretty(&policy).unwrap_or_default());
    if !placeholders.is_empty() {
        p.status(format!(
            "placeholders in the ARNs: {}",
            placeholders.join(", ")
        ));
    }
    Ok(exit::OK)
}
