//! `params`: an env's (and the app's shared) SSM parameters. SecureString values travel from
//! stdin to SSM and are never read back, printed or logged.

use serde::Serialize;

use crate::aws::ssm::ParameterValue;
use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::model::{app_ownership, app_tags, ownership, Ownership, ParameterState, Tags};
use crate::naming::{self, EnvName};
use crate::ops::{self, Session};
use crate::plan::Conflict;
use crate::render::{is_env_var_name, param_var_name};

/// Which path a parameter lives under.
#[derive(Debug, Clone)]
pub enum Scope {
    Env(EnvName),
    Shared,
}

impl Scope {
    fn path(&self, app: &str) -> String {
        match self {
            Scope::Env(e) => naming::env_param_path(app, &e.slug),
            Scope::Shared => naming::shared_param_path(app),
        }
    }

    fn owned(&self, tags: &Tags, app: &str) -> Ownership {
        match self {
            Scope::Env(e) => ownership(tags, app, e.slug.as_str()),
            Scope::Shared => app_ownership(tags, app),
        }
    }

    fn tags(&self, app: &str) -> Tags {
        match self {
            Scope::Env(e) => ops::identity(app, e).tags(),
            Scope::Shared => app_tags(app, &ops::owner(), &ops::now_rfc3339()),
        }
    }
}

pub fn check_name(name: &str) -> Result<()> {
    if is_env_var_name(name) {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("`{name}` is not a valid parameter name"),
            Some("parameter names become environment variables: letters, digits and '_', not starting with a digit (e.g. DB_URL)".to_string()),
        ))
    }
}

/// SSM's own limits on the full name (its length counts the ARN, so it depends on the region):
/// checked before any call, so an over-long name is an input error, not a ValidationException.
fn check_full_name(name: &str, full: &str, region: &str) -> Result<()> {
    let Some(e) = crate::validate::parameter_name_error(full, region) else {
        return Ok(());
    };
    let start: String = name.chars().take(40).collect();
    let shown = if start.len() < name.len() {
        format!("`{start}...` ({} characters)", name.len())
    } else {
        format!("`{start}`")
    };
    let room = crate::validate::SSM_NAME_MAX.saturating_sub(
        crate::render::ssm_parameter_arn(region, "123456789012", full).len() - name.len(),
    );
    Err(Error::invalid(
        format!("parameter name {shown}: the full name {e}"),
        Some(format!(
            "use a name of at most {room} characters here (the path `{}` and the ARN take the rest)",
            &full[..full.len() - name.len()]
        )),
    ))
}

async fn existing(
    aws: &Aws,
    scope: &Scope,
    app: &str,
    full: &str,
) -> Result<Option<ParameterState>> {
    let account = aws.account_id().await?;
    let Some(mut p) = aws.get_parameter_meta(full, &account).await? else {
        return Ok(None);
    };
    p.tags = aws.parameter_tags(full).await?;
    let owner = scope.owned(&p.tags, app);
    if owner != Ownership::Ours {
        return Err(Error::Conflicts(vec![Conflict {
            kind: "SSM parameter".into(),
            name: full.to_string(),
            owner,
        }]));
    }
    Ok(Some(p))
}

pub async fn set(
    session: &Session,
    scope: &Scope,
    name: &str,
    value: ParameterValue,
) -> Result<String> {
    check_name(name)?;
    let cfg = session.load_config(&[])?;
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(&cfg)).await?;
    let full = format!("{}{name}", scope.path(&app));
    check_full_name(name, &full, &aws.region)?;
    existing(aws, scope, &app, &full).await?;
    aws.put_parameter(&full, &value, &scope.tags(&app)).await?;
    Ok(full)
}

/// One parameter `params import` is to set, and the line of the file it came from.
pub struct ImportItem {
    pub name: String,
    pub value: ParameterValue,
    pub line: usize,
}

/// What `import` set (never the value).
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub name: String,
    pub path: String,
    pub secure: bool,
    /// `create` or `update`.
    pub action: &'static str,
}

/// Checked, ownership-verified parameters, ready to be written by `apply_import`.
pub struct ImportPlan {
    pub items: Vec<(Imported, ParameterValue)>,
    app: String,
    scope: Scope,
}

impl ImportPlan {
    pub fn summary(&self) -> Vec<&Imported> {
        self.items.iter().map(|(i, _)| i).collect()
    }
}

/// Checks every name (an input error names the line of `file`), reads which parameters exist and
/// checks they are envctl's, all before anything is written.
pub async fn plan_import(
    session: &Session,
    scope: &Scope,
    file: &str,
    items: Vec<ImportItem>,
) -> Result<ImportPlan> {
    for item in &items {
        check_name(&item.name)
            .map_err(|e| Error::invalid(format!("{file}:{}: {e}", item.line), e.hint()))?;
    }
    let cfg = session.load_config(&[])?;
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(&cfg)).await?;
    let prefix = scope.path(&app);
    for item in &items {
        check_full_name(&item.name, &format!("{prefix}{}", item.name), &aws.region)?;
    }
    let app_ref = app.as_str();
    let found = futures::future::try_join_all(items.iter().map(|item| {
        let full = format!("{prefix}{}", item.name);
        async move { existing(aws, scope, app_ref, &full).await }
    }))
    .await?;
    let items = items
        .into_iter()
        .zip(found)
        .map(|(item, found)| {
            let imported = Imported {
                path: format!("{prefix}{}", item.name),
                name: item.name,
                secure: matches!(item.value, ParameterValue::Secure(_)),
                action: if found.is_some() { "update" } else { "create" },
            };
            (imported, item.value)
        })
        .collect();
    Ok(ImportPlan {
        items,
        app,
        scope: scope.clone(),
    })
}

/// Writes the planned parameters, one at a time (SSM's PutParameter limit is low), in file order.
pub async fn apply_import(session: &Session, plan: ImportPlan) -> Result<Vec<Imported>> {
    let cfg = session.load_config(&[])?;
    let aws = session.aws(Some(&cfg)).await?;
    let tags = plan.scope.tags(&plan.app);
    let mut done = Vec::new();
    for (imported, value) in plan.items {
        aws.put_parameter(&imported.path, &value, &tags).await?;
        done.push(imported);
    }
    Ok(done)
}

#[derive(Debug, Clone, Serialize)]
pub struct ParamView {
    pub name: String,
    pub path: String,
    pub secure: bool,
    /// From `shared` or `env`.
    pub source: String,
    /// Never set for SecureStrings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub version: i64,
}

fn view(p: &ParameterState, prefix: &str, source: &str) -> Option<ParamView> {
    Some(ParamView {
        name: param_var_name(prefix, &p.name)?,
        path: p.name.clone(),
        secure: p.secure,
        source: source.into(),
        value: if p.secure { None } else { p.value.clone() },
        version: p.version,
    })
}

pub async fn get(session: &Session, scope: &Scope, name: &str) -> Result<ParamView> {
    check_name(name)?;
    let cfg = session.load_config(&[])?;
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(&cfg)).await?;
    let prefix = scope.path(&app);
    let full = format!("{prefix}{name}");
    check_full_name(name, &full, &aws.region)?;
    let account = aws.account_id().await?;
    let found = aws.get_parameter_meta(&full, &account).await?;
    let source = if matches!(scope, Scope::Shared) {
        "shared"
    } else {
        "env"
    };
    found
        .and_then(|p| view(&p, &prefix, source))
        .ok_or_else(|| {
            Error::invalid(
                format!("parameter `{full}` does not exist"),
                Some("list them with `envctl params ls`".to_string()),
            )
        })
}

/// The env's effective parameters: shared ones overlaid by the env's own (marked by `source`).
pub async fn list(session: &Session, scope: &Scope) -> Result<Vec<ParamView>> {
    let cfg = session.load_config(&[])?;
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(&cfg)).await?;
    let account = aws.account_id().await?;
    let shared_prefix = naming::shared_param_path(&app);
    let mut out: Vec<ParamView> = aws
        .list_parameters(&shared_prefix, &account)
        .await?
        .iter()
        .filter_map(|p| view(p, &shared_prefix, "shared"))
        .collect();
    if let Scope::Env(_) = scope {
        let prefix = scope.path(&app);
        for v in aws
            .list_parameters(&prefix, &account)
            .await?
            .iter()
            .filter_map(|p| view(p, &prefix, "env"))
        {
            out.retain(|o| o.name != v.name);
            out.push(v);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub async fn remove(session: &Session, scope: &Scope, name: &str) -> Result<Option<String>> {
    check_name(name)?;
    let cfg = session.load_config(&[])?;
    let app = cfg.config.app.clone();
    let aws = session.aws(Some(&cfg)).await?;
    let full = format!("{}{name}", scope.path(&app));
    check_full_name(name, &full, &aws.region)?;
    if existing(aws, scope, &app, &full).await?.is_none() {
        return Ok(None);
    }
    aws.delete_parameters(std::slice::from_ref(&full)).await?;
    Ok(Some(full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_long_parameter_name_says_how_long_it_may_be() {
        let full = |name: &str| format!("/envctl/shop/env/feat-x/{name}");
        // 44 characters of ARN before the path, 24 of path.
        let longest = "A".repeat(1011 - 44 - 24);
        check_full_name(&longest, &full(&longest), "us-east-1").expect("fits exactly");
        let over = format!("{longest}A");
        let e = check_full_name(&over, &full(&over), "us-east-1").expect_err("one over");
        assert_eq!(e.exit_code(), crate::error::exit::INVALID_INPUT);
        let text = e.to_string();
        assert!(text.contains("(944 characters)"), "{text}");
        assert!(text.contains("1012 characters"), "{text}");
        let hint = e.hint().unwrap_or_default();
        assert!(
            hint.contains("at most 943 characters") && hint.contains("`/envctl/shop/env/feat-x/`"),
            "{hint}"
        );
    }
}
