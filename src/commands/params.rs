//! `envctl params set|get|ls|rm`

use std::io::{IsTerminal, Read};

use crate::aws::ssm::ParameterValue;
use crate::cli::{ParamsCommand, ParamsImportArgs};
use crate::error::{exit, Error, Result};
use crate::model::SecretString;
use crate::ops::params::{self, Scope};
use crate::ops::{self, Session};

/// Splits `ENV NAME...` (or only `NAME...` with --shared) into a scope and the rest.
fn scope_and_rest(args: &[String], shared: bool) -> Result<(Scope, String)> {
    match (shared, args) {
        (true, [rest]) => Ok((Scope::Shared, rest.clone())),
        (false, [env, rest]) => Ok((Scope::Env(ops::resolve_env(Some(env))?), rest.clone())),
        (true, _) => Err(Error::invalid(
            "with --shared, give only NAME (no env)",
            Some("example: envctl params set --shared LOG_LEVEL=debug".to_string()),
        )),
        (false, _) => Err(Error::invalid(
            "give the env and the parameter",
            Some("example: envctl params set feature-x DB_URL=postgres://...".to_string()),
        )),
    }
}

pub async fn run(session: &Session, cmd: ParamsCommand) -> Result<i32> {
    let p = &session.printer;
    match cmd {
        ParamsCommand::Set(a) => {
            let (scope, rest) = scope_and_rest(&a.args, a.shared)?;
            let (name, value) = match (rest.split_once('='), a.secure) {
                (Some(_), true) => {
                    return Err(Error::invalid(
                        "--secure values are read from stdin, never from the command line",
                        Some("example: printf %s \"$PASSWORD\" | envctl params set feature-x DB_PASSWORD --secure".to_string()),
                    ))
                }
                (Some((n, v)), false) => (n.to_string(), ParameterValue::Plain(v.to_string())),
                (None, true) => (rest.clone(), ParameterValue::Secure(read_secret()?)),
                (None, false) => {
                    return Err(Error::invalid(
                        format!("`{rest}` has no value"),
                        Some("use NAME=VALUE, or NAME --secure to read a secret from stdin".to_string()),
                    ))
                }
            };
            let path = params::set(session, &scope, &name, value).await?;
            if p.is_json() {
                p.json(&serde_json::json!({ "name": name, "path": path }));
            } else {
                p.status(format!("set {path}"));
            }
        }
        ParamsCommand::Get(a) => {
            let (scope, name) = scope_and_rest(&a.args, a.shared)?;
            let v = params::get(session, &scope, &name).await?;
            if p.is_json() {
                p.json(&v);
            } else if v.secure {
                p.status(format!(
                    "`{}` is a SecureString: envctl never reads secret values",
                    v.path
                ));
            } else {
                p.text(v.value.unwrap_or_default());
            }
        }
        ParamsCommand::Ls(a) => {
            let scope = if a.shared {
                Scope::Shared
            } else {
                Scope::Env(ops::resolve_env(a.env.as_deref())?)
            };
            let list = params::list(session, &scope).await?;
            if p.is_json() {
                p.json(&list);
            } else {
                let rows = list
                    .iter()
                    .map(|v| {
                        vec![
                            v.name.clone(),
                            if v.secure { "SecureString" } else { "String" }.into(),
                            v.source.clone(),
                            v.value
                                .clone()
                                .unwrap_or_else(|| "(secret, not shown)".into()),
                        ]
                    })
                    .collect();
                p.text(p.table(&["NAME", "TYPE", "SOURCE", "VALUE"], rows));
            }
        }
        ParamsCommand::Import(a) => return import(session, a).await,
        ParamsCommand::Rm(a) => {
            let (scope, name) = scope_and_rest(&a.args, a.shared)?;
            match params::remove(session, &scope, &name).await? {
                Some(path) => p.status(format!("deleted {path}")),
                None => p.status(format!("`{name}` does not exist: nothing to delete")),
            }
        }
    }
    Ok(exit::OK)
}

/// `params import`: parse the file, check every key, show what will be set (stderr), write.
async fn import(session: &Session, a: ParamsImportArgs) -> Result<i32> {
    let p = &session.printer;
    let scope = if a.shared {
        Scope::Shared
    } else {
        Scope::Env(ops::resolve_env(a.env.as_deref())?)
    };
    let file = a.file.display().to_string();
    let text = std::fs::read_to_string(&a.file).map_err(|e| {
        Error::invalid(
            format!("{file}: cannot read: {e}"),
            Some("pass the path of a .env file with --file".to_string()),
        )
    })?;
    let entries = crate::dotenv::parse(&text).map_err(|e| {
        Error::invalid(
            format!("{file}:{}: {}", e.line, e.message),
            Some(
                "lines are KEY=VALUE; quote values with spaces or newlines: KEY=\"a b\""
                    .to_string(),
            ),
        )
    })?;
    let unknown: Vec<&str> = a
        .secure_keys
        .iter()
        .map(String::as_str)
        .filter(|k| !entries.iter().any(|e| e.key == *k))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::invalid(
            format!(
                "--secure-keys names {} not set in {file}",
                unknown.join(", ")
            ),
            Some(
                "list only keys the file sets, e.g. --secure-keys DB_PASSWORD,API_TOKEN"
                    .to_string(),
            ),
        ));
    }
    if entries.is_empty() {
        p.status(format!("{file} sets nothing: nothing to import"));
        return Ok(exit::OK);
    }
    let items = entries
        .into_iter()
        .map(|e| {
            let value = if a.secure_keys.contains(&e.key) {
                ParameterValue::Secure(SecretString::new(e.value))
            } else {
                ParameterValue::Plain(e.value)
            };
            params::ImportItem {
                name: e.key,
                value,
                line: e.line,
            }
        })
        .collect();
    let plan = params::plan_import(session, &scope, &file, items).await?;
    for i in plan.summary() {
        p.status(format!(
            "  {} {} ({})",
            if i.action == "create" { "+" } else { "~" },
            i.path,
            if i.secure { "SecureString" } else { "String" }
        ));
    }
    let done = params::apply_import(session, plan).await?;
    if p.is_json() {
        p.json(&done);
    } else {
        let created = done.iter().filter(|i| i.action == "create").count();
        p.status(format!(
            "imported {} parameter(s) from {file}: {created} created, {} updated",
            done.len(),
            done.len() - created
        ));
    }
    Ok(exit::OK)
}

/// Reads a secret: from the terminal without echo, or all of a piped stdin (one trailing newline
/// dropped). Never from argv, so it stays out of shell history and process listings.
fn read_secret() -> Result<SecretString> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("secret value (not echoed): ")
            .map_err(|e| Error::io("reading the secret from the terminal", e))?
    } else {
        let mut buf = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut buf)
            .map_err(|e| Error::io("reading the secret from stdin", e))?;
        let trimmed = buf.strip_suffix('\n').unwrap_or(&buf);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string()
    };
    if value.is_empty() {
        return Err(Error::invalid(
            "the secret value is empty",
            Some("pipe the value in, e.g. printf %s \"$SECRET\" | envctl params set ENV NAME --secure".to_string()),
        ));
    }
    Ok(SecretString::new(value))
}
