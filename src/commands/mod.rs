//! One file per subcommand: turn arguments into an operation call and print the result.
//! Each returns the process exit code for a successful run.

pub mod bootstrap;
pub mod build;
pub mod ci;
pub mod completions;
pub mod cost;
pub mod doctor;
pub mod down;
pub mod exec;
pub mod gc;
pub mod iam_policy;
pub mod init;
pub mod janitor;
pub mod lifecycle;
pub mod logs;
pub mod ls;
pub mod man;
pub mod open;
pub mod params;
pub mod plan;
pub mod render;
pub mod rollback;
pub mod run;
pub mod status;
pub mod up;
pub mod validate;
pub mod views;

use crate::cli::{Command, EnvArgs, GlobalArgs};
use crate::error::Result;
use crate::ops::up::EnvRequest;
use crate::ops::Session;
use crate::ops::SessionOptions;

pub async fn run(session: &Session, command: Command) -> Result<i32> {
    match command {
        Command::Init(args) => init::run(session, args).await,
        Command::Bootstrap(args) => bootstrap::run(session, args).await,
        Command::Params(cmd) => params::run(session, cmd).await,
        Command::Render(args) => render::run(session, args).await,
        Command::Validate(args) => validate::run(session, args),
        Command::Plan(args) => plan::run(session, args).await,
        Command::Up(args) => up::run(session, args).await,
        Command::Build(args) => build::run(session, args).await,
        Command::Run(args) => run::run(session, args).await,
        Command::Logs(args) => logs::run(session, args).await,
        Command::Exec(args) => exec::run(session, args).await,
        Command::Rollback(args) => rollback::run(session, args).await,
        Command::Down(args) => down::run(session, args).await,
        Command::Ls(args) => ls::run(session, args).await,
        Command::Cost(args) => cost::run(session, args).await,
        Command::Status(args) => status::run(session, args).await,
        Command::Open(args) => open::run(session, args).await,
        Command::Stop(args) => lifecycle::stop(session, args).await,
        Command::Start(args) => lifecycle::start(session, args).await,
        Command::Extend(args) => lifecycle::extend(session, args).await,
        Command::Gc(args) => gc::run(session, args).await,
        Command::Doctor => doctor::run(session).await,
        Command::IamPolicy(args) => iam_policy::run(session, args),
        Command::Ci(cmd) => ci::run(session, cmd),
        Command::Janitor(cmd) => janitor::run(session, cmd).await,
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(session, args),
    }
}

/// `3h`, `2d`: how long before `now` an RFC 3339 time was.
pub fn age_since(rfc3339: &str, now: jiff::Timestamp) -> String {
    let Ok(t) = rfc3339.parse::<jiff::Timestamp>() else {
        return "-".into();
    };
    let secs = now.duration_since(t).as_secs().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

// The command line → the operations' plain options (ops know nothing of clap).
impl From<&GlobalArgs> for SessionOptions {
    fn from(g: &GlobalArgs) -> Self {
        SessionOptions {
            config: g.config.clone(),
            region: g.region.clone(),
            profile: g.profile.clone(),
            endpoint_url: g.endpoint_url.clone(),
            output: g.output,
            verbose: g.verbose,
            quiet: g.quiet,
            stats: g.stats,
            max_attempts: g.max_attempts,
            operation_timeout: g.operation_timeout,
        }
    }
}

impl From<GlobalArgs> for SessionOptions {
    fn from(g: GlobalArgs) -> Self {
        SessionOptions::from(&g)
    }
}

impl From<&EnvArgs> for EnvRequest {
    fn from(a: &EnvArgs) -> Self {
        EnvRequest {
            env: a.env.clone(),
            overrides: a.overrides.clone(),
            images: a.images.clone(),
            ttl: a.ttl.clone(),
            protect: a.protect,
            always_on: a.always_on,
        }
    }
}
