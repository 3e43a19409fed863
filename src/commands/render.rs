//! `envctl render`: the rendered definitions, as `up` would send them.

use crate::cli::EnvArgs;
use crate::error::{exit, Result};
use crate::ops::{up, Session};

pub async fn run(session: &Session, args: EnvArgs) -> Result<i32> {
    let prepared = up::prepare(session, &args)?;
    let desired = up::render(session, &prepared).await?;
    session.printer.json(&desired);
    Ok(exit::OK)
}
