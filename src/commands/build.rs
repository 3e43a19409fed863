//! `envctl build`

use crate::cli::BuildArgs;
use crate::commands::up::build_options;
use crate::error::{exit, Result};
use crate::ops::up::EnvRequest;
use crate::ops::{up, Session};

pub async fn run(session: &Session, args: BuildArgs) -> Result<i32> {
    let prepared = up::prepare(session, &EnvRequest::from(&args.env))?;
    let poll = crate::ops::poll_interval();
    let images = up::build(
        session,
        &prepared,
        &build_options(&args.build, args.services, poll),
    )
    .await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&images);
        return Ok(exit::OK);
    }
    if images.is_empty() {
        p.status("No service has a [services.<name>.build] table: nothing to build.");
        return Ok(exit::OK);
    }
    let rows = images
        .iter()
        .map(|i| {
            vec![
                i.service.clone(),
                i.tag.clone(),
                if i.cache_hit {
                    "exists (skipped)".to_string()
                } else {
                    "built".to_string()
                },
                i.duration_secs
                    .map(|d| format!("{d:.0}s"))
                    .unwrap_or_else(|| "-".into()),
                i.image_uri.clone(),
            ]
        })
        .collect();
    p.text(p.table(&["SERVICE", "TAG", "BUILD", "TIME", "IMAGE"], rows));
    Ok(exit::OK)
}
