//! `envctl params set|get|ls|rm`

use std::io::{IsTerminal, Read};

use crate::aws::ssm::ParameterValue;
use crate::cli::ParamsCommand;
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
