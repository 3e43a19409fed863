//! `envctl render`: the rendered definitions, as `up` would send them.

use crate::cli::EnvArgs;
use crate::error::{exit, Result};
use crate::ops::up::{self, EnvRequest};
use crate::ops::Session;

pub async fn run(session: &Session, args: EnvArgs) -> Result<i32> {
    let prepared = up::prepare(session, &EnvRequest::from(&args))?;
    let desired = up::render(session, &prepared).await?;
    session.printer.json(&desired);
    Ok(exit::OK)
}
