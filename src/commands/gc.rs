//! `envctl gc`

use crate::cli::GcArgs;
use crate::error::{exit, Result};
use crate::ops::gc;
use crate::ops::Session;

pub async fn run(session: &Session, args: GcArgs) -> Result<i32> {
    let live = match (&args.live_branches_from, &args.live_branches) {
        (Some(_), _) => Some(gc::live_branches_from_git()?),
        (None, Some(file)) => Some(gc::live_branches_from_file(file)?),
        (None, None) => None,
    };
    let verdicts = gc::find(session, live.as_ref()).await?;
    let p = &session.printer;
    if !p.is_json() {
        if verdicts.is_empty() {
            p.text("Nothing to collect.");
        } else {
            let rows = verdicts
                .iter()
                .map(|v| {
                    vec![
                        v.env.clone(),
                        v.branch.clone(),
                        v.reasons.join("; "),
                        if v.protected {
                            "kept (protected)"
                        } else if args.yes {
                            "delete"
                        } else {
                            "would delete"
                        }
                        .to_string(),
                    ]
                })
                .collect();
            p.text(p.table(&["ENV", "BRANCH", "WHY", "ACTION"], rows));
        }
    }
    let deleted = if args.yes {
        gc::collect(session, &verdicts).await?
    } else {
        vec![]
    };
    if p.is_json() {
        p.json(&serde_json::json!({ "candidates": verdicts, "deleted": deleted.iter().map(|r| &r.env).collect::<Vec<_>>() }));
    } else if !args.yes && verdicts.iter().any(|v| v.delete) {
        p.status("Run again with --yes to delete them.");
    }
    Ok(exit::OK)
}
