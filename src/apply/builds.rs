//! Runs a projects plan (`plan::builds`): the projects are independent, so every step goes out
//! together (at most [`CONCURRENCY`] at a time). A project created by someone else since it was
//! observed (CreateProject answers ResourceAlreadyExistsException) is updated when it is the
//! app's and is a conflict otherwise: nothing is written to it.

use futures::stream::{self, StreamExt};

use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::model::{app_ownership, Ownership, ProjectSpec};
use crate::plan::builds::{ProjectAction, ProjectsPlan};
use crate::plan::Conflict;

/// CodeBuild's project writes are not burst-limited like ECS's; a few at once is plenty.
pub const CONCURRENCY: usize = 4;

/// Runs `plan`; refuses before the first write when a name is someone else's.
pub async fn apply_projects(
    aws: &Aws,
    app: &str,
    plan: &ProjectsPlan,
    started: &(dyn Fn(&ProjectAction) + Sync),
) -> Result<()> {
    if !plan.conflicts.is_empty() {
        return Err(Error::Conflicts(plan.conflicts.clone()));
    }
    let results: Vec<Result<()>> = stream::iter(&plan.actions)
        .map(|action| async move {
            if interrupt::requested() {
                return Err(interrupt::not_started(&action.describe()));
            }
            let step = interrupt::step(action.describe());
            started(action);
            let result = run(aws, app, action).await;
            step.finish(result.is_ok());
            result
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn run(aws: &Aws, app: &str, action: &ProjectAction) -> Result<()> {
    match action {
        ProjectAction::CreateProject { spec } => match aws.create_project(spec).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => {
                let Some(found) = aws.describe_project(&spec.name).await? else {
                    return Err(e.into());
                };
                let owner = app_ownership(&found.tags, app);
                if owner != Ownership::Ours {
                    return Err(Error::Conflicts(vec![Conflict {
                        kind: "CodeBuild project".into(),
                        name: spec.name.clone(),
                        owner,
                    }]));
                }
                let spec = ProjectSpec {
                    tags: found.tags,
                    ..spec.clone()
                };
                aws.update_project(&spec).await?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        },
        ProjectAction::UpdateProject { spec, .. } => {
            aws.update_project(spec).await?;
            Ok(())
        }
    }
}
