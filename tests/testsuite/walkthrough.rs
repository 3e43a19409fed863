//! docs/walkthrough.md's three-service app (config/examples/three-services.toml) against the
//! emulator: it plans, deploys with its hooks and database, converges, and tears down, and web
//! reaches api by its Service Connect URL. Keeps the example and the walkthrough honest.

use crate::support::App;

const TD_TEMPLATE: &str = "templates/task-definition.json.j2";

#[tokio::test]
async fn the_walkthrough_app_deploys_converges_and_goes() {
    let app = App::init();
    let example = std::fs::read_to_string(
        crate::support::repo_root().join("config/examples/three-services.toml"),
    )
    .expect("the example config");
    std::fs::write(app.path().join("envctl.toml"), example).expect("write envctl.toml");
    // The walkthrough's template change: web gets the API's address.
    app.edit(
        TD_TEMPLATE,
        "\"environment\": {{ environment | tojson }},",
        "\"environment\": {{ (environment + ([{\"name\": \"API_URL\", \"value\": services.api.url}] if service == \"web\" else [])) | tojson }},",
    );
    // moto's RunTask needs a container-level memory (docs/tasks-and-hooks.md).
    app.edit(
        TD_TEMPLATE,
        "\"essential\": true,",
        "\"essential\": true,\n      \"memory\": {{ memory }},",
    );
    app.ok(&["bootstrap"]);
    let r = app.run_with(
        &["params", "set", "--shared", "DB_ADMIN_URL", "--secure"],
        Some("postgres://envctl_admin:not-a-real-password@dev-db.internal:5432/postgres"),
    );
    assert_eq!(r.code, 0, "{r}");

    let plan = app.ok(&["plan", "feature-x"]);
    for needle in [
        "> run hook before_deploy on api: bin/rails db:migrate",
        "> run hook after_create on api: bin/rails db:seed",
        "create service shop-feature-x-worker",
    ] {
        assert!(plan.stdout.contains(needle), "{needle}:\n{plan}");
    }
    let up = app.ok(&["up", "feature-x"]);
    assert!(
        up.stdout
            .contains("web: http://feature-x.preview.shop.example/"),
        "{up}"
    );

    let ecs = app.ecs();
    let env_of = |td: &aws_sdk_ecs::types::TaskDefinition| {
        td.container_definitions()[0]
            .environment()
            .iter()
            .map(|kv| {
                (
                    kv.name().unwrap_or_default().to_string(),
                    kv.value().unwrap_or_default().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let secrets_of = |td: &aws_sdk_ecs::types::TaskDefinition| {
        td.container_definitions()[0]
            .secrets()
            .iter()
            .map(|s| s.name().to_string())
            .collect::<Vec<_>>()
    };
    let mut defs = std::collections::BTreeMap::new();
    for key in ["web", "api", "worker"] {
        let service = app.service(&format!("shop-feature-x-{key}")).await;
        let td = ecs
            .describe_task_definition()
            .task_definition(service.task_definition().expect("revision"))
            .send()
            .await
            .expect("task definition")
            .task_definition()
            .expect("definition")
            .clone();
        defs.insert(key, td);
    }
    assert!(
        env_of(&defs["web"]).contains(&("API_URL".into(), "http://api:8080".into())),
        "{:?}",
        env_of(&defs["web"])
    );
    assert!(secrets_of(&defs["api"]).contains(&"DATABASE_URL".to_string()));
    assert!(secrets_of(&defs["worker"]).contains(&"DATABASE_URL".to_string()));
    assert!(
        !secrets_of(&defs["web"]).contains(&"DATABASE_URL".to_string()),
        "[database] services = api, worker"
    );

    // Converged: nothing to do, no task started.
    app.moto.clear_recording();
    app.expect(&["plan", "feature-x", "--detailed-exitcode"], 0);
    app.ok(&["up", "feature-x"]);
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());

    app.ok(&["down", "feature-x", "--yes"]);
    assert!(app.ok(&["ls", "--output", "json"]).stdout.contains("[]"));
    app.ok(&["down", "feature-x", "--yes"]);
}
