//! The database task's script (`envctl::database::SCRIPT`) against a real PostgreSQL server: run
//! with `sh` exactly as the ECS task runs it (`sh -c SCRIPT envctl-db create|drop DB ROLE
//! [TEMPLATE]`, the secrets `ADMIN_URL` and `DATABASE_URL` in the environment, psql on PATH),
//! as an admin role with only CREATEDB and CREATEROLE, as docs/database.md tells users to set up.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use envctl::database::{self, DbOp};
use envctl::naming;

use crate::support::postgres::Postgres;

/// Special characters on purpose: the script must percent-decode the admin password.
const ADMIN_PASSWORD: &str = "Adm1n p@ss:/%?'\"";

struct Server {
    pg: Postgres,
    admin_url: String,
}

/// A server with an unprivileged admin (CREATEDB, CREATEROLE) and a seeded template it owns.
fn server() -> Server {
    let pg = Postgres::start();
    let su = pg.superuser_url("postgres");
    pg.sql(
        &su,
        &format!(
            "CREATE ROLE envctl_admin LOGIN CREATEDB CREATEROLE PASSWORD '{}'",
            ADMIN_PASSWORD.replace('\'', "''")
        ),
    );
    let admin_url = pg.url("envctl_admin", ADMIN_PASSWORD, "postgres");
    pg.sql(&admin_url, "CREATE DATABASE shop_seed");
    let seed = pg.url("envctl_admin", ADMIN_PASSWORD, "shop_seed");
    pg.sql(
        &seed,
        "CREATE TYPE mood AS ENUM ('ok', 'sad'); \
         CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, m mood); \
         INSERT INTO products (name) VALUES ('seeded widget'); \
         CREATE VIEW product_names AS SELECT name FROM products; \
         CREATE SEQUENCE invoice_no; \
         CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42'",
    );
    Server { pg, admin_url }
}

fn run_script(
    s: &Server,
    op: DbOp,
    db: &str,
    role: &str,
    template: Option<&str>,
    url: &str,
) -> Output {
    run_script_with_admin(s, &s.admin_url, op, db, role, template, url)
}

fn run_script_with_admin(
    s: &Server,
    admin_url: &str,
    op: DbOp,
    db: &str,
    role: &str,
    template: Option<&str>,
    url: &str,
) -> Output {
    let command = database::command(op, db, role, template);
    let out = Command::new("sh")
        .arg("-c")
        .arg(database::SCRIPT)
        .arg("envctl-db")
        .args(&command)
        .env_clear()
        .env("PATH", s.pg.path_env())
        .env("ADMIN_URL", admin_url)
        .env("DATABASE_URL", url)
        .output()
        .expect("sh");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in [ADMIN_PASSWORD, "p%40ss", password_of(url)]
        .into_iter()
        .filter(|s| !s.is_empty())
    {
        assert!(
            !all.contains(secret),
            "the script printed a password:\n{all}"
        );
    }
    out
}

fn password_of(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, r)| r.split_once('@'))
        .and_then(|(u, _)| u.split_once(':'))
        .map_or("", |(_, p)| p)
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn env_url(s: &Server, name: &str, password: &str) -> String {
    s.pg.url(name, password, name)
}

fn names(env: &str) -> String {
    let slug = naming::slug(env).expect("slug");
    naming::database("shop", &slug)
}

#[test]
fn create_copies_the_template_owned_by_the_env_role_and_closed_to_others() {
    let s = server();
    let db = names("feature-x");
    assert_eq!(db, "shop__feature_x");
    let pw = database::generate_password().unwrap();
    let url = env_url(&s, &db, pw.expose());
    let out = run_script(&s, DbOp::Create, &db, &db, Some("shop_seed"), &url);
    assert!(out.status.success(), "{}", text(&out));

    // The env's role logs in with the generated password and owns what the template brought.
    assert_eq!(s.pg.sql(&url, "SELECT name FROM products"), "seeded widget");
    assert_eq!(s.pg.sql(&url, "SELECT answer()"), "42");
    assert_eq!(s.pg.sql(&url, "SELECT count(*) FROM product_names"), "1");
    s.pg.sql(
        &url,
        "ALTER TABLE products ADD COLUMN price int; \
         ALTER TYPE mood ADD VALUE 'meh'; SELECT nextval('invoice_no'); \
         CREATE TABLE orders (id int); DROP VIEW product_names",
    );
    assert_eq!(
        s.pg.sql(
            &url,
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ),
        db
    );
    // Its role has no other powers.
    assert_eq!(
        s.pg.sql(&url, "SELECT rolcreatedb OR rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"),
        "f"
    );

    // Another env's role cannot connect to it (CONNECT revoked from PUBLIC), nor it to the other.
    let other = names("feature-y");
    let other_pw = database::generate_password().unwrap();
    let other_url = env_url(&s, &other, other_pw.expose());
    let out = run_script(&s, DbOp::Create, &other, &other, None, &other_url);
    assert!(out.status.success(), "{}", text(&out));
    let denied =
        s.pg.psql(&s.pg.url(&other, other_pw.expose(), &db), "SELECT 1");
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("permission denied"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    // Without a template the database is empty.
    assert_eq!(
        s.pg.sql(
            &other_url,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "0"
    );
}

#[test]
fn create_again_keeps_the_data_and_sets_the_stored_password() {
    let s = server();
    let db = names("feature-x");
    let first = env_url(&s, &db, "FirstPassword123");
    let out = run_script(&s, DbOp::Create, &db, &db, Some("shop_seed"), &first);
    assert!(out.status.success(), "{}", text(&out));
    s.pg.sql(
        &first,
        "INSERT INTO products (name) VALUES ('made by the env')",
    );

    // Same URL: success, nothing lost (a crash after the task, before the ready tag).
    let out = run_script(&s, DbOp::Create, &db, &db, Some("shop_seed"), &first);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(s.pg.sql(&first, "SELECT count(*) FROM products"), "2");

    // Role and database exist but the stored URL has another password (a crash between
    // creating them and storing a new URL): the role takes the stored one, the data stays.
    let second = env_url(&s, &db, "SecondPassword456");
    let out = run_script(&s, DbOp::Create, &db, &db, Some("shop_seed"), &second);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(s.pg.sql(&second, "SELECT count(*) FROM products"), "2");
    assert!(
        !s.pg.psql(&first, "SELECT 1").status.success(),
        "old password refused"
    );
}

#[test]
fn drop_ends_open_connections_and_is_idempotent() {
    let s = server();
    let db = names("feature-x");
    let url = env_url(&s, &db, "OpenConnPassword1");
    let out = run_script(&s, DbOp::Create, &db, &db, Some("shop_seed"), &url);
    assert!(out.status.success(), "{}", text(&out));
    let mut open = hold_connection(&s, &url);

    let out = run_script(&s, DbOp::Drop, &db, &db, None, "");
    assert!(out.status.success(), "{}", text(&out));
    let su = s.pg.superuser_url("postgres");
    assert_eq!(
        s.pg.sql(
            &su,
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{db}'")
        ),
        "0"
    );
    assert_eq!(
        s.pg.sql(
            &su,
            &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{db}'")
        ),
        "0"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while open.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the open session was not ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The template is untouched, and dropping what is gone is success.
    assert_eq!(
        s.pg.sql(
            &su,
            "SELECT count(*) FROM pg_database WHERE datname = 'shop_seed'"
        ),
        "1"
    );
    let out = run_script(&s, DbOp::Drop, &db, &db, None, "");
    assert!(out.status.success(), "{}", text(&out));
}

fn hold_connection(s: &Server, url: &str) -> Child {
    let mut child = Command::new(s.pg.bin.join("psql"))
        .args([
            "--no-psqlrc",
            "-qAt",
            "-d",
            url,
            "-c",
            "SELECT pg_sleep(60)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("psql");
    let su = s.pg.superuser_url("postgres");
    let deadline = Instant::now() + Duration::from_secs(10);
    let query = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = '{}'",
        password_free_user(url)
    );
    while s.pg.sql(&su, &query) == "0" {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the session did not open");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn password_free_user(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, r)| r.split_once(':'))
        .map_or("", |(u, _)| u)
}

#[test]
fn a_missing_template_fails_with_its_name_and_creates_nothing() {
    let s = server();
    let db = names("feature-x");
    let url = env_url(&s, &db, "NoTemplatePw1");
    let out = run_script(&s, DbOp::Create, &db, &db, Some("shop_seed_typo"), &url);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("template database \"shop_seed_typo\" does not exist"),
        "{err}"
    );
    let su = s.pg.superuser_url("postgres");
    assert_eq!(
        s.pg.sql(
            &su,
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{db}'")
        ),
        "0"
    );
    assert_eq!(
        s.pg.sql(
            &su,
            &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{db}'")
        ),
        "0"
    );
}

#[test]
fn a_failing_admin_connection_exits_non_zero_without_the_password() {
    let s = server();
    let db = names("feature-x");
    let wrong = s.pg.url("envctl_admin", "Wrong p@ss", "postgres");
    let url = env_url(&s, &db, "SomePassword1");
    for op in [DbOp::Create, DbOp::Drop] {
        let out = run_script_with_admin(&s, &wrong, op, &db, &db, None, &url);
        assert!(!out.status.success(), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("password authentication failed"), "{err}");
        assert!(!err.contains("Wrong"), "{err}");
    }
    let out = run_script_with_admin(&s, "mysql://x", DbOp::Create, &db, &db, None, &url);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a postgres:// URL"));
}

#[test]
fn long_and_odd_env_names_make_valid_identifiers() {
    let s = server();
    let envs = [
        "Feature/ÜNÏCODE_and spaces",
        "1234-starts-with-a-digit",
        "renovate/some-dependency-9.x-with-a-very-long-branch-name-indeed",
    ];
    for env in envs {
        let db = names(env);
        assert!(db.len() <= naming::PG_IDENTIFIER_MAX, "{db}");
        let url = env_url(&s, &db, "OddNamesPassword1");
        let out = run_script(&s, DbOp::Create, &db, &db, Some("shop_seed"), &url);
        assert!(out.status.success(), "{env}: {}", text(&out));
        assert_eq!(s.pg.sql(&url, "SELECT current_database()"), db);
        let out = run_script(&s, DbOp::Drop, &db, &db, None, "");
        assert!(out.status.success(), "{env}: {}", text(&out));
    }
}
