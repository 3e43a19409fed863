//! `envctl stop`, `envctl start`, `envctl extend`

use crate::cli::{ExtendArgs, StatusArgs};
use crate::error::{exit, Result};
use crate::ops::lifecycle::{self, CountChange};
use crate::ops::{self, Session};

pub async fn stop(session: &Session, args: StatusArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let changes = lifecycle::stop(session, &env).await?;
    print_counts(session, &changes);
    Ok(exit::OK)
}

pub async fn start(session: &Session, args: StatusArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let changes = lifecycle::start(session, &env).await?;
    print_counts(session, &changes);
    Ok(exit::OK)
}

pub async fn extend(session: &Session, args: ExtendArgs) -> Result<i32> {
    let env = ops::resolve_env(Some(&args.env))?;
    let extended = lifecycle::extend(session, &env, &args.duration).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&extended);
    } else {
        p.text(format!(
            "env `{}` now expires at {}",
            extended.env, extended.expires_at
        ));
    }
    Ok(exit::OK)
}

fn print_counts(session: &Session, changes: &[CountChange]) {
    let p = &session.printer;
    if p.is_json() {
        p.json(&changes);
        return;
    }
    let rows = changes
        .iter()
        .map(|c| {
            vec![
                c.service.clone(),
                c.before.to_string(),
                c.after.to_string(),
                if c.before == c.after {
                    "unchanged"
                } else {
                    "changed"
                }
                .to_string(),
            ]
        })
        .collect();
    p.text(p.table(&["SERVICE", "BEFORE", "AFTER", ""], rows));
}
