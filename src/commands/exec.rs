//! `envctl exec ENV SERVICE [--container C] [--task ID] [-- CMD...]`: exits with the Session
//! Manager plugin's exit code.

use crate::cli::ExecArgs;
use crate::error::Result;
use crate::naming;
use crate::ops::{self, exec, logs, Session};

pub async fn run(session: &Session, args: ExecArgs) -> Result<i32> {
    // Input and the plugin first: nothing is asked of AWS for a session that cannot start.
    let env = ops::resolve_env(Some(&args.env))?;
    let cfg = session.load_config(&[])?;
    logs::check_services(&cfg, std::slice::from_ref(&args.service))?;
    let plugin =
        exec::find_plugin(std::env::var_os("PATH").as_deref()).ok_or_else(exec::plugin_missing)?;
    let aws = session.aws(Some(&cfg)).await?;
    let req = exec::ExecRequest {
        cluster: cfg.cluster_name(),
        service: naming::service_name(&cfg.config.app, &env.slug, &args.service),
        service_key: args.service.clone(),
        env: env.raw.clone(),
        container: args.container,
        task: args.task,
        command: exec::command_string(&args.command),
        region: aws.region.clone(),
        profile: session.globals.profile.clone().filter(|p| !p.is_empty()),
    };
    let handoff = exec::open_session(aws, &req).await?;
    session.printer.status(format!(
        "Session in task {} (container {}) of {}: `{}`",
        handoff.task_id, handoff.container, req.service, req.command
    ));
    exec::run_plugin(&plugin, &handoff.args).await
}
