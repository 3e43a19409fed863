//! The env's database: its task definition and create task for `up`, its drop task for `down`.

use super::{
    json_diff, latest_revision, owned_revisions, Action, Conflict, DatabaseRun, TaskDefRef,
};
use crate::database::{self, DbOp};
use crate::model::{
    ownership, ActualEnv, AwsVpcConfiguration, DesiredDatabase, LogSource, Ownership, Tags,
};
use crate::normalize;

/// The database task definition (registered like a service's), and the create task when the
/// env's `DATABASE_URL` parameter is missing or not yet tagged ready.
pub(super) fn plan_database(
    db: &DesiredDatabase,
    actual: &ActualEnv,
    tags: &Tags,
    app: &str,
    env: &str,
    actions: &mut Vec<Action>,
    conflicts: &mut Vec<Conflict>,
) -> Option<DatabaseRun> {
    let latest = latest_revision(actual, &db.family);
    if let Some(td) = latest {
        let owner = ownership(&td.tags, app, env);
        if owner != Ownership::Ours {
            conflicts.push(Conflict {
                kind: "task definition family".into(),
                name: db.family.clone(),
                owner,
            });
            return None;
        }
    }
    let param = actual.parameters.iter().find(|p| p.name == db.url_param);
    if let Some(p) = param {
        let owner = ownership(&p.tags, app, env);
        if owner != Ownership::Ours {
            conflicts.push(Conflict {
                kind: "SSM parameter".into(),
                name: p.name.clone(),
                owner,
            });
            return None;
        }
    }
    let want = normalize::task_definition(&db.task_definition);
    let td_ref = match latest.filter(|t| {
        t.definition
            .as_ref()
            .map(normalize::task_definition)
            .as_ref()
            == Some(&want)
    }) {
        Some(t) => TaskDefRef::Existing(t.arn.clone()),
        None => {
            actions.push(Action::RegisterTaskDefinition {
                service: database::CONTAINER.into(),
                family: db.family.clone(),
                definition: db.task_definition.clone(),
                tags: tags.clone(),
                diff: latest
                    .and_then(|t| t.definition.as_ref())
                    .map(|old| json_diff(&normalize::task_definition(old), &want)),
            });
            TaskDefRef::Registered(db.family.clone())
        }
    };
    let state = param.and_then(|p| p.tags.get(database::TAG_DATABASE));
    let reason = match state.map(String::as_str) {
        Some(database::READY) => return None,
        Some(_) => "an earlier run did not finish it",
        None => "new env",
    };
    Some(DatabaseRun {
        op: DbOp::Create,
        database: db.name.clone(),
        template: db.template.clone(),
        task_definition: td_ref,
        network: db.network.clone(),
        log: LogSource::of(&db.task_definition, database::CONTAINER),
        url_param: db.url_param.clone(),
        admin_param: db.admin_param.clone(),
        url_stored: param.is_some(),
        timeout_secs: db.timeout_secs,
        reason: reason.into(),
    })
}

/// `down`'s drop task: when the env's `DATABASE_URL` parameter is ours and tagged by `[database]`
/// (stored before the database was created, deleted after it is dropped), with the latest
/// revision of the env's database family. `Err` names what is missing.
pub fn plan_drop_database(
    app: &str,
    slug: &crate::naming::Slug,
    actual: &ActualEnv,
    network: AwsVpcConfiguration,
) -> Result<Option<DatabaseRun>, String> {
    let url_param = format!(
        "{}{}",
        crate::naming::env_param_path(app, slug),
        database::URL_PARAM
    );
    let Some(p) = actual.parameters.iter().find(|p| {
        p.name == url_param
            && p.tags.contains_key(database::TAG_DATABASE)
            && ownership(&p.tags, app, slug.as_str()) == Ownership::Ours
    }) else {
        return Ok(None);
    };
    let family = crate::naming::database_family(app, slug);
    let td = owned_revisions(actual, app, slug.as_str())
        .filter(|t| t.family == family)
        .max_by_key(|t| t.revision)
        .ok_or_else(|| format!("the database task definition `{family}` is gone, so the database cannot be dropped"))?;
    Ok(Some(DatabaseRun {
        op: DbOp::Drop,
        database: crate::naming::database(app, slug),
        template: None,
        task_definition: TaskDefRef::Existing(td.arn.clone()),
        log: td
            .definition
            .as_ref()
            .and_then(|d| LogSource::of(d, database::CONTAINER)),
        network,
        url_param: p.name.clone(),
        admin_param: String::new(),
        url_stored: true,
        timeout_secs: 900,
        reason: "env is going".into(),
    }))
}
