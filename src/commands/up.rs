//! `envctl up`

use std::time::Duration;

use crate::cli::{BuildFlags, UpArgs};
use crate::config::BuildSource;
use crate::error::{exit, Result};
use crate::ops::build::BuildOptions;
use crate::ops::up::{self, UpOptions};
use crate::ops::Session;
use crate::output::services_table;

pub async fn run(session: &Session, args: UpArgs) -> Result<i32> {
    let prepared = up::prepare(session, &args.env)?;
    let poll = crate::ops::poll_interval();
    let opts = UpOptions {
        build: (!args.build.no_build).then(|| build_options(&args.build, vec![], poll)),
        wait: !args.no_wait,
        wait_timeout: args.wait_timeout,
        poll_interval: poll,
    };
    let report = up::up(session, &prepared, &opts).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&report);
    } else {
        p.text(services_table(p, &report.services));
        for (service, url) in &report.urls {
            p.text(format!("{service}: {url}"));
        }
        let s = report.plan.summary();
        p.status(format!(
            "env `{}` (branch `{}`) is up: {} created, {} updated, {} deleted.",
            report.env, report.branch, s.create, s.update, s.delete
        ));
    }
    Ok(exit::OK)
}

/// Build settings from the flags `up` and `build` share.
pub fn build_options(flags: &BuildFlags, services: Vec<String>, poll: Duration) -> BuildOptions {
    BuildOptions {
        services,
        source: flags.source.as_deref().map(|s| {
            if s == "local" {
                BuildSource::Local
            } else {
                BuildSource::Git
            }
        }),
        force: flags.force_build,
        poll,
        timeout: Duration::from_secs(60 * 60),
    }
}
