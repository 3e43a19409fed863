//! `envctl validate`: the offline checks of `up`, printed as what passed and what was skipped.

use crate::cli::EnvArgs;
use crate::error::{exit, Result};
use crate::ops::up::EnvRequest;
use crate::ops::validate::{self, ValidateOptions};
use crate::ops::{up, Session};

/// The env checked when none is given and the directory is not on a git branch (a detached CI
/// checkout): names only shape lengths, so any valid one does.
const PLACEHOLDER_ENV: &str = "validate";

pub fn run(session: &Session, mut args: EnvArgs) -> Result<i32> {
    if args.env.is_none() && crate::ops::resolve_env(None).is_err() {
        args.env = Some(PLACEHOLDER_ENV.to_string());
    }
    let prepared = up::prepare(session, &EnvRequest::from(&args))?;
    let report = validate::validate(
        &prepared,
        &ValidateOptions {
            region: session.globals.region.clone(),
        },
    )?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&report);
        return Ok(exit::OK);
    }
    let mut out = Vec::new();
    for line in &report.checked {
        out.push(format!("ok       {line}"));
    }
    for line in &report.skipped {
        out.push(format!(
            "skipped  {line} (needs AWS: `envctl plan` checks it)"
        ));
    }
    p.text(out.join("\n"));
    p.status(format!(
        "{} is valid for env `{}` in {}: {} service(s)",
        report.config,
        report.env,
        report.region,
        report.services.len()
    ));
    Ok(exit::OK)
}
