//! `envctl logs [ENV] [--service S]... [-f] [--since D] [--filter P]`: log lines on stdout (text
//! or JSON Lines), status on stderr.

use std::io::Write;

use crate::cli::LogsArgs;
use crate::error::{exit, Error, Result};
use crate::naming;
use crate::ops::{self, logs, task, Session};

pub async fn run(session: &Session, args: LogsArgs) -> Result<i32> {
    // Every input error before the first AWS call.
    let env = ops::resolve_env(args.env.as_deref())?;
    let cfg = session.load_config(&[])?;
    logs::check_services(&cfg, &args.services)?;
    let start_ms = logs::parse_since(&args.since, jiff::Timestamp::now()).map_err(|m| {
        Error::invalid(
            format!("--since: {m}"),
            Some("examples: --since 15m, --since 2h, --since 2025-06-01T12:00:00Z".into()),
        )
    })?;
    let services: Vec<String> = cfg.config.services.keys().cloned().collect();
    let group = naming::log_group(&cfg.config.app, &env.slug);
    let plan = logs::plan(
        &group,
        &services,
        &args.services,
        start_ms,
        args.filter.as_deref(),
    );
    let aws = session.aws(Some(&cfg)).await?;
    let p = &session.printer;
    let follow = args
        .follow
        .then(|| ops::poll_interval_or(logs::FOLLOW_INTERVAL));
    if follow.is_some() {
        p.status(format!(
            "Following {group} since {} (Ctrl-C to stop)...",
            logs::iso_millis(start_ms)
        ));
    }
    let json = p.is_json();
    let mut stdout = std::io::stdout();
    // A write error means stdout was closed (`| head`): stop quietly, like other CLIs do.
    let mut emit = |e: &crate::model::LogEvent, service: &str| {
        let line = if json {
            logs::format_json(e, service)
        } else {
            logs::format_text(e, service, plan.width, args.timestamps)
        };
        writeln!(stdout, "{line}")
            .and_then(|_| stdout.flush())
            .is_ok()
    };
    let shown = logs::run(aws, &plan, start_ms, follow, &mut emit, task::ctrl_c()).await?;
    if shown == 0 && follow.is_none() {
        p.status(format!(
            "No log lines in {group} since {}{}.",
            logs::iso_millis(start_ms),
            args.filter
                .as_deref()
                .map(|f| format!(" matching `{f}`"))
                .unwrap_or_default()
        ));
    }
    Ok(exit::OK)
}
