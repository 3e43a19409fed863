//! `envctl ls`

use crate::cli::LsArgs;
use crate::commands::views::ls::{ls_table, LsContext};
use crate::error::{exit, Result};
use crate::ops::{inspect, Session};
use crate::output::stdout_width;

pub async fn run(session: &Session, args: LsArgs) -> Result<i32> {
    let (envs, capacity) = inspect::ls_with_capacity(session).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&envs);
        return Ok(exit::OK);
    }
    if let Some(c) = &capacity {
        p.status(format!(
            "preview ALB: {}/{} listener rules, {}/{} target groups in use",
            c.rules, c.max_rules, c.target_groups, c.max_target_groups
        ));
    }
    if envs.is_empty() {
        p.status("No envs.");
        return Ok(exit::OK);
    }
    let ctx = LsContext {
        now: jiff::Timestamp::now(),
    };
    p.text(ls_table(&envs, &ctx, stdout_width(), args.wide));
    Ok(exit::OK)
}
