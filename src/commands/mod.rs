//! One file per subcommand: turn arguments into an operation call and print the result.
//! Each returns the process exit code for a successful run.

pub mod bootstrap;
pub mod build;
pub mod ci;
pub mod cost;
pub mod down;
pub mod exec;
pub mod gc;
pub mod init;
pub mod janitor;
pub mod lifecycle;
pub mod logs;
pub mod ls;
pub mod params;
pub mod plan;
pub mod render;
pub mod run;
pub mod status;
pub mod up;

use crate::cli::Command;
use crate::error::Result;
use crate::ops::Session;

pub async fn run(session: &Session, command: Command) -> Result<i32> {
    match command {
        Command::Init(args) => init::run(session, args).await,
        Command::Bootstrap => bootstrap::run(session).await,
        Command::Params(cmd) => params::run(session, cmd).await,
        Command::Render(args) => render::run(session, args).await,
        Command::Plan(args) => plan::run(session, args).await,
        Command::Up(args) => up::run(session, args).await,
        Command::Build(args) => build::run(session, args).await,
        Command::Run(args) => run::run(session, args).await,
        Command::Logs(args) => logs::run(session, args).await,
        Command::Exec(args) => exec::run(session, args).await,
        Command::Down(args) => down::run(session, args).await,
        Command::Ls => ls::run(session).await,
        Command::Cost(args) => cost::run(session, args).await,
        Command::Status(args) => status::run(session, args).await,
        Command::Stop(args) => lifecycle::stop(session, args).await,
        Command::Start(args) => lifecycle::start(session, args).await,
        Command::Extend(args) => lifecycle::extend(session, args).await,
        Command::Gc(args) => gc::run(session, args).await,
        Command::Ci(cmd) => ci::run(session, cmd),
        Command::Janitor(cmd) => janitor::run(session, cmd).await,
    }
}

/// `3h`, `2d`: how long ago an RFC 3339 time was.
pub fn age(rfc3339: &str) -> String {
    let Ok(t) = rfc3339.parse::<jiff::Timestamp>() else {
        return "-".into();
    };
    let secs = jiff::Timestamp::now().duration_since(t).as_secs().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
