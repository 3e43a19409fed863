//! `envctl status`

use crate::cli::StatusArgs;
use crate::commands::views::status::status_text;
use crate::error::{exit, Result};
use crate::ops::{self, inspect, Session};

pub async fn run(session: &Session, args: StatusArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let status = inspect::status(session, &env).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&status);
    } else {
        p.text(status_text(&status, p.paint()));
    }
    Ok(exit::OK)
}
