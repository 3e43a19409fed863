//! `envctl janitor install|uninstall`

use crate::cli::JanitorCommand;
use crate::error::{exit, Result};
use crate::ops::janitor::{self, JanitorReport};
use crate::ops::Session;

pub async fn run(session: &Session, command: JanitorCommand) -> Result<i32> {
    let report = match command {
        JanitorCommand::Install(args) => janitor::install(session, &args.overrides).await?,
        JanitorCommand::Uninstall(args) => janitor::uninstall(session, &args.overrides).await?,
    };
    print(session, &report);
    Ok(exit::OK)
}

fn print(session: &Session, report: &JanitorReport) {
    let p = &session.printer;
    if p.is_json() {
        p.json(report);
        return;
    }
    let rows = report
        .resources
        .iter()
        .map(|r| vec![r.resource.clone(), r.name.clone(), r.state.as_str().into()])
        .collect();
    p.text(p.table(&["RESOURCE", "NAME", "STATE"], rows));
}
