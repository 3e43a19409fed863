//! `[database]` against the emulator: what envctl *sent*. moto starts no container, so the
//! database task's work is tested against a real PostgreSQL in `database_sql`; here: the
//! DATABASE_URL parameter (SecureString, pending then ready), the database task's definition
//! (pinned client image, both URLs as `secrets` by ARN) and RunTask (names only, no password),
//! its order before `before_deploy` hooks and before `down`'s DeleteParameters, the services'
//! DATABASE_URL secret, and a no-op second `up`.

use serde_json::{json, Value};

use crate::support::{App, Recorded};

const ADMIN_URL: &str =
    "postgres://envctl_admin:S3cret-Admin@db.internal:5432/postgres?sslmode=require";

fn setup() -> App {
    let app = App::bootstrapped();
    // moto's RunTask needs a container-level memory (see tasks.rs).
    app.edit(
        "templates/task-definition.json.j2",
        "\"essential\": true,",
        "\"essential\": true,\n      \"memory\": {{ memory }},",
    );
    let r = app.run_with(
        &["params", "set", "--shared", "DB_ADMIN_URL", "--secure"],
        Some(ADMIN_URL),
    );
    assert_eq!(r.code, 0, "{r}");
    let path = app.path().join("envctl.toml");
    let mut config = std::fs::read_to_string(&path).expect("envctl.toml");
    config.push_str(
        "\n[database]\nengine = \"postgres\"\nadmin_url_param = \"/envctl/shop/shared/DB_ADMIN_URL\"\ntemplate = \"shop_seed\"\n\
         \n[[hooks.before_deploy]]\nservice = \"web\"\ncommand = [\"migrate\"]\n",
    );
    std::fs::write(&path, config).expect("write envctl.toml");
    app
}

fn command_of(run_task: &Value) -> Value {
    run_task["overrides"]["containerOverrides"][0]["command"].clone()
}

fn position(requests: &[Recorded], what: &str, pred: impl Fn(&Recorded) -> bool) -> usize {
    requests
        .iter()
        .position(pred)
        .unwrap_or_else(|| panic!("{what} not sent: {:?}", crate::support::ops(requests)))
}

async fn database_url(app: &App) -> String {
    let ssm = aws_sdk_ssm::Client::new(&app.moto.sdk_config());
    ssm.get_parameter()
        .name("/envctl/shop/env/feature-x/DATABASE_URL")
        .with_decryption(true)
        .send()
        .await
        .expect("DATABASE_URL")
        .parameter()
        .and_then(|p| p.value())
        .expect("value")
        .to_string()
}

#[tokio::test]
async fn up_creates_the_database_before_migrations_and_down_drops_it_before_the_parameters() {
    let app = setup();
    app.moto.clear_recording();
    let plan = app.ok(&["plan", "feature-x"]);
    assert!(
        plan.stdout
            .contains("> create database shop__feature_x (from template shop_seed) (new env)"),
        "{plan}"
    );
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());

    app.moto.clear_recording();
    let r = app.ok(&["up", "feature-x"]);
    let requests = app.moto.requests();
    let url = database_url(&app).await;
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p.to_string())
        .expect("password in the URL");
    assert_eq!(password.len(), 32);
    assert_eq!(
        url,
        format!("postgres://shop__feature_x:{password}@db.internal:5432/shop__feature_x?sslmode=require")
    );
    // The password and the admin's appear in no output and no request but the PutParameter.
    for secret in [password.as_str(), "S3cret-Admin"] {
        assert!(
            !r.stdout.contains(secret) && !r.stderr.contains(secret),
            "{r}"
        );
        for req in requests.iter().filter(|q| q.operation != "PutParameter") {
            assert!(
                !req.body.contains(secret),
                "{} carries a password",
                req.operation
            );
        }
    }

    let register_db = position(&requests, "the database task definition", |q| {
        q.operation == "RegisterTaskDefinition" && q.json()["family"] == "shop-feature-x--db"
    });
    let put_url = position(&requests, "PutParameter DATABASE_URL", |q| {
        q.operation == "PutParameter" && q.body.contains("DATABASE_URL")
    });
    let db_task = position(&requests, "the database task", |q| {
        q.operation == "RunTask" && command_of(&q.json())[0] == "create"
    });
    let ready = position(&requests, "the ready tag", |q| {
        q.operation == "AddTagsToResource" && q.body.contains("ready")
    });
    let migrate = position(&requests, "the migration", |q| {
        q.operation == "RunTask" && command_of(&q.json()) == json!(["migrate"])
    });
    let create_service = position(&requests, "CreateService", |q| {
        q.operation == "CreateService"
    });
    assert!(
        register_db < put_url
            && put_url < db_task
            && db_task < ready
            && ready < migrate
            && migrate < create_service,
        "order: {:?}",
        crate::support::ops(&requests)
    );
    let put = requests[put_url].json();
    assert_eq!(put["Type"], "SecureString");
    assert!(put.to_string().contains("pending"), "stored pending: {put}");

    let td = requests[register_db].json();
    let c = &td["containerDefinitions"][0];
    assert_eq!(
        c["image"],
        "public.ecr.aws/docker/library/postgres:17.6-alpine"
    );
    let secrets = c["secrets"].as_array().expect("secrets");
    let from = |name: &str| {
        secrets
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["valueFrom"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert!(
        from("ADMIN_URL").ends_with(":parameter/envctl/shop/shared/DB_ADMIN_URL"),
        "{td}"
    );
    assert!(
        from("DATABASE_URL").ends_with(":parameter/envctl/shop/env/feature-x/DATABASE_URL"),
        "{td}"
    );
    let task = requests[db_task].json();
    assert_eq!(
        command_of(&task),
        json!(["create", "shop__feature_x", "shop__feature_x", "shop_seed"])
    );
    assert_eq!(task["launchType"], "FARGATE");
    assert!(task["taskDefinition"]
        .as_str()
        .unwrap_or_default()
        .contains("shop-feature-x--db"));

    // The service gets DATABASE_URL by ARN, and never the admin URL.
    let service_td = requests
        .iter()
        .filter(|q| q.operation == "RegisterTaskDefinition")
        .map(Recorded::json)
        .find(|t| t["family"] == "shop-feature-x-web")
        .expect("web task definition");
    let text = service_td.to_string();
    assert!(
        text.contains(":parameter/envctl/shop/env/feature-x/DATABASE_URL"),
        "{text}"
    );
    assert!(
        !text.contains("DB_ADMIN_URL"),
        "the admin URL reaches no service: {text}"
    );

    // A second up: no task, no write.
    app.moto.clear_recording();
    let r = app.ok(&["up", "feature-x"]);
    assert!(
        app.moto.writes().is_empty(),
        "{:?}\n{r}",
        app.moto.write_ops()
    );

    // down: the drop task, then the parameters.
    app.moto.clear_recording();
    let r = app.ok(&["down", "feature-x", "--yes"]);
    let requests = app.moto.requests();
    let drop = position(&requests, "the drop task", |q| {
        q.operation == "RunTask" && command_of(&q.json())[0] == "drop"
    });
    let delete_params = position(&requests, "DeleteParameters", |q| {
        q.operation == "DeleteParameters"
    });
    let deregister = position(&requests, "DeregisterTaskDefinition", |q| {
        q.operation == "DeregisterTaskDefinition"
    });
    assert!(drop < delete_params && drop < deregister, "{r}");
    assert_eq!(
        command_of(&requests[drop].json()),
        json!(["drop", "shop__feature_x", "shop__feature_x", ""])
    );
}

#[tokio::test]
async fn bad_database_input_fails_before_any_write() {
    let app = App::bootstrapped();
    let path = app.path().join("envctl.toml");
    let base = std::fs::read_to_string(&path).expect("envctl.toml");
    std::fs::write(
        &path,
        format!("{base}\n[database]\nengine = \"mysql\"\nadmin_url_param = \"/envctl/shop/shared/DB_ADMIN_URL\"\n"),
    )
    .expect("write");
    let r = app.expect(&["up", "feature-x"], 3);
    assert!(r.stderr.contains("database.engine"), "{r}");

    std::fs::write(
        &path,
        format!("{base}\n[database]\nengine = \"postgres\"\nadmin_url_param = \"/envctl/shop/shared/DB_ADMIN_URL\"\n"),
    )
    .expect("write");
    app.moto.clear_recording();
    let r = app.expect(&["up", "feature-x"], 3);
    assert!(
        r.stderr
            .contains("`/envctl/shop/shared/DB_ADMIN_URL` does not exist"),
        "{r}"
    );
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());

    app.ok(&[
        "params",
        "set",
        "--shared",
        "DB_ADMIN_URL=postgres://a:b@h/postgres",
    ]);
    app.moto.clear_recording();
    let r = app.expect(&["up", "feature-x"], 3);
    assert!(r.stderr.contains("must be a SecureString"), "{r}");
    assert!(app.moto.writes().is_empty(), "{:?}", app.moto.write_ops());
}
