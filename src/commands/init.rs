//! `envctl init`

use crate::cli::InitArgs;
use crate::error::{exit, Result};
use crate::ops::{init, Session};

pub fn run(session: &Session, args: InitArgs) -> Result<i32> {
    let written = init::init(&args.dir, &args.app, args.force)?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&serde_json::json!({ "app": args.app, "written": written }));
    } else {
        for f in &written {
            p.text(format!("wrote {}", f.display()));
        }
        p.status("Next: `envctl bootstrap` once per app and region, then `envctl up ENV`.");
    }
    Ok(exit::OK)
}
