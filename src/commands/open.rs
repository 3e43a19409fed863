//! `envctl open`: the env's preview URL in a browser (`$BROWSER`, else `xdg-open` or `open`), or
//! only printed with `--print`.

use std::process::{Command, Stdio};

use crate::cli::OpenArgs;
use crate::error::{exit, Error, Result};
use crate::ops::{self, inspect, Session};

pub async fn run(session: &Session, args: OpenArgs) -> Result<i32> {
    let env = ops::resolve_env(args.env.as_deref())?;
    let mut urls = inspect::preview_urls(session, &env).await?;
    if let Some(service) = &args.service {
        let known: Vec<String> = urls.iter().map(|(s, _)| s.clone()).collect();
        urls.retain(|(s, _)| s == service);
        if urls.is_empty() {
            return Err(Error::invalid(
                format!(
                    "service `{service}` of env `{}` has no preview URL",
                    env.slug
                ),
                Some(format!("services with one: {}", known.join(", "))),
            ));
        }
    }
    let p = &session.printer;
    if p.is_json() {
        let map: std::collections::BTreeMap<_, _> = urls.iter().cloned().collect();
        p.json(&map);
    } else {
        for (_, url) in &urls {
            p.text(url);
        }
    }
    if args.print {
        return Ok(exit::OK);
    }
    for (_, url) in &urls {
        launch(url)?;
    }
    Ok(exit::OK)
}

/// Hands `url` to the user's browser: `$BROWSER` (a command, as `git web--browse` and Python's
/// `webbrowser` read it), else the desktop's opener.
fn launch(url: &str) -> Result<()> {
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    let opener = browser.unwrap_or_else(|| {
        if cfg!(target_os = "macos") {
            "open".to_string()
        } else {
            "xdg-open".to_string()
        }
    });
    // $BROWSER may hold arguments (`firefox --new-tab`).
    let mut words = opener.split_whitespace();
    let program = words.next().unwrap_or("xdg-open");
    let status = Command::new(program)
        .args(words)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| {
            Error::invalid(
                format!("cannot start `{program}` to open {url}: {e}"),
                Some(
                    "set BROWSER to your browser's command, or use `envctl open ENV --print`"
                        .to_string(),
                ),
            )
        })?;
    if !status.success() {
        return Err(Error::invalid(
            format!("`{program}` could not open {url} ({status})"),
            Some(
                "set BROWSER to your browser's command, or use `envctl open ENV --print`"
                    .to_string(),
            ),
        ));
    }
    Ok(())
}
