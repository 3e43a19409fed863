//! `envctl init`

use crate::cli::InitArgs;
use crate::error::{exit, Error, Result};
use crate::ops::{init, Session};

pub async fn run(session: &Session, args: InitArgs) -> Result<i32> {
    let p = &session.printer;
    if let Some(source) = &args.from_service {
        let out =
            init::init_from_service(session, &args.dir, args.app.as_deref(), source, args.force)
                .await?;
        if p.is_json() {
            p.json(&out);
        } else {
            for f in &out.written {
                p.text(format!("wrote {}", f.display()));
            }
        }
        // The report is for humans: stderr, even with --output json (stdout carries it as data).
        eprintln!(
            "not carried over from {source} ({}):",
            out.not_carried_over.len()
        );
        for line in &out.not_carried_over {
            eprintln!("  - {line}");
        }
        p.status(format!(
            "Next: review envctl.toml and templates/, `envctl bootstrap` once per app and region, then `envctl up ENV` (app `{}`).",
            out.app
        ));
        return Ok(exit::OK);
    }
    let Some(app) = args.app else {
        return Err(Error::invalid(
            "--app is required",
            Some("e.g. `envctl init --app shop`".to_string()),
        ));
    };
    let written = init::init(&args.dir, &app, args.force)?;
    if p.is_json() {
        p.json(&serde_json::json!({ "app": app, "written": written }));
    } else {
        for f in &written {
            p.text(format!("wrote {}", f.display()));
        }
        p.status("Next: `envctl bootstrap` once per app and region, then `envctl up ENV`.");
    }
    Ok(exit::OK)
}
