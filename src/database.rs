//! `[database]`: one database per env on a shared Postgres server. Pure parts only: the script the
//! one-off task runs (sh + psql, passwords read from the environment only), the admin URL's
//! server address, the env's `DATABASE_URL` and its generated password. `ops::database` runs it.

use std::io::Read;

use crate::model::SecretString;

/// The env parameter holding the env's connection URL (a SecureString).
pub const URL_PARAM: &str = "DATABASE_URL";
/// Tag on the `DATABASE_URL` parameter: `pending` from the moment it is stored until the
/// database task succeeded, then `ready`. `ready` is the observed state a no-op `up` checks.
pub const TAG_DATABASE: &str = "envctl:database";
pub const PENDING: &str = "pending";
pub const READY: &str = "ready";
/// The container of the database task definition.
pub const CONTAINER: &str = "db";
/// Generated password length: 32 of 62 characters, about 190 bits.
const PASSWORD_LEN: usize = 32;

/// What the database task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DbOp {
    Create,
    Drop,
}

impl DbOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DbOp::Create => "create",
            DbOp::Drop => "drop",
        }
    }
}

/// The task's whole program, put in the task definition's `entryPoint` as
/// `["sh", "-c", SCRIPT, "envctl-db"]`; RunTask's command override holds only
/// `[create|drop, database, role, template]`. Secrets arrive as the ECS secrets `ADMIN_URL` and
/// `DATABASE_URL`: the admin password goes to libpq as `PGPASSWORD` (the URL on psql's command
/// line has none), the role's password to psql through `\getenv`. Needs psql 15 or later
/// (`\getenv`) and a server of 13 or later (`DROP DATABASE ... WITH (FORCE)`).
pub const SCRIPT: &str = r#"set -eu
action="${1:-}"; db="${2:-}"; role="${3:-}"; template="${4:-}"
fail() { echo "envctl-db: $*" >&2; exit 2; }
[ -n "$db" ] && [ -n "$role" ] || fail "usage: create|drop DATABASE ROLE [TEMPLATE]"
[ -n "${ADMIN_URL:-}" ] || fail "ADMIN_URL is not set (the secret from database.admin_url_param)"
# Splits a postgres:// URL without putting it on any command line: awk reads it from ENVIRON.
url_part() {
  awk -v what="$1" -v var="$2" '
    function hex(c) { return index("0123456789abcdef", tolower(c)) - 1 }
    function decode(s,   out, i, c) {
      out = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "%" && i + 2 <= length(s)) {
          out = out sprintf("%c", hex(substr(s, i + 1, 1)) * 16 + hex(substr(s, i + 2, 1))); i += 2
        } else out = out c
      }
      return out
    }
    BEGIN {
      u = ENVIRON[var]; p = index(u, "://")
      if (p == 0) exit 3
      scheme = substr(u, 1, p + 2); rest = substr(u, p + 3); auth = rest; tail = ""
      if (match(rest, /[\/?]/)) { auth = substr(rest, 1, RSTART - 1); tail = substr(rest, RSTART) }
      at = 0
      for (i = length(auth); i > 0; i--) if (substr(auth, i, 1) == "@") { at = i; break }
      userinfo = ""; host = auth
      if (at) { userinfo = substr(auth, 1, at - 1); host = substr(auth, at + 1) }
      c = index(userinfo, ":"); user = userinfo; pw = ""
      if (c) { user = substr(userinfo, 1, c - 1); pw = substr(userinfo, c + 1) }
      if (what == "password") printf "%s", decode(pw)
      else printf "%s%s%s%s", scheme, (user != "" ? user "@" : ""), host, tail
    }'
}
case "$ADMIN_URL" in
postgres://*|postgresql://*) ;;
*) fail "ADMIN_URL is not a postgres:// URL" ;;
esac
conn="$(url_part url ADMIN_URL)" || fail "ADMIN_URL is not a postgres:// URL"
PGPASSWORD="$(url_part password ADMIN_URL)"
export PGPASSWORD PGAPPNAME=envctl-db
export ENVCTL_DB="$db" ENVCTL_ROLE="$role" ENVCTL_TEMPLATE="$template"
case "$action" in
create)
  [ -n "${DATABASE_URL:-}" ] || fail "DATABASE_URL is not set (the env's DATABASE_URL parameter)"
  ENVCTL_PASSWORD="$(url_part password DATABASE_URL)"
  [ -n "$ENVCTL_PASSWORD" ] || fail "DATABASE_URL has no password"
  export ENVCTL_PASSWORD
  psql "$conn" --no-psqlrc --quiet --set ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\getenv envctl_db ENVCTL_DB
\getenv envctl_role ENVCTL_ROLE
\getenv envctl_template ENVCTL_TEMPLATE
\getenv envctl_password ENVCTL_PASSWORD
SET envctl.db = :'envctl_db';
SET envctl.template = :'envctl_template';
DO $$
BEGIN
  IF current_setting('envctl.template') <> ''
     AND NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = current_setting('envctl.db'))
     AND NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = current_setting('envctl.template')) THEN
    RAISE EXCEPTION 'template database "%" does not exist on this server', current_setting('envctl.template')
      USING HINT = 'create and seed it (docs/database.md), or fix database.template in envctl.toml';
  END IF;
END $$;
SELECT format('CREATE ROLE %I LOGIN', :'envctl_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'envctl_role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'envctl_role', :'envctl_password') \gexec
SELECT format('GRANT %I TO %I', :'envctl_role', current_user)
 WHERE NOT pg_has_role(current_user, :'envctl_role', 'MEMBER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'envctl_db', :'envctl_role')
       || CASE WHEN :'envctl_template' = '' THEN '' ELSE format(' TEMPLATE %I', :'envctl_template') END
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'envctl_db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'envctl_db', :'envctl_role') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'envctl_db') \gexec
\connect :"envctl_db"
SET client_min_messages = warning;
SET envctl.role = :'envctl_role';
DO $$
DECLARE
  r record;
  owner text := current_setting('envctl.role');
BEGIN
  -- What the template brought along belongs to whoever restored it (the admin): hand it to the
  -- env's role so its migrations can alter it.
  FOR r IN SELECT n.nspname FROM pg_namespace n
            WHERE n.nspowner = current_user::regrole
              AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, owner);
  END LOOP;
  FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relowner = current_user::regrole
              AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
              AND (c.relkind IN ('r', 'p', 'v', 'm', 'f')
                   OR (c.relkind = 'S' AND NOT EXISTS (
                         SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                            AND d.objid = c.oid AND d.deptype IN ('a', 'i')))) LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      r.rel, owner);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.proowner = current_user::regrole
              AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.fn, owner);
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS ty FROM pg_type t
             JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.typowner = current_user::regrole AND t.typtype IN ('e', 'd', 'r')
              AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' LOOP
    EXECUTE format('ALTER TYPE %s OWNER TO %I', r.ty, owner);
  END LOOP;
END $$;
SQL
  echo "envctl-db: database \"$db\" is ready (role \"$role\")"
  ;;
drop)
  psql "$conn" --no-psqlrc --quiet --set ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\getenv envctl_db ENVCTL_DB
\getenv envctl_role ENVCTL_ROLE
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'envctl_db') \gexec
SELECT format('DROP ROLE IF EXISTS %I', :'envctl_role') \gexec
SQL
  echo "envctl-db: database \"$db\" and role \"$role\" are gone"
  ;;
*) fail "unknown action \`$action\` (create or drop)" ;;
esac
"#;

/// `entryPoint` of the database task's container.
pub fn entry_point() -> Vec<String> {
    vec!["sh".into(), "-c".into(), SCRIPT.into(), "envctl-db".into()]
}

/// RunTask's command override: names only, never a password.
pub fn command(op: DbOp, database: &str, role: &str, template: Option<&str>) -> Vec<String> {
    vec![
        op.as_str().into(),
        database.into(),
        role.into(),
        template.unwrap_or_default().into(),
    ]
}

/// Where the shared server is, from the admin URL, without its credentials:
/// `postgres://admin:pw@db.internal:5432/postgres?sslmode=require` → scheme `postgres`,
/// host `db.internal:5432`, query `sslmode=require`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    pub scheme: String,
    pub host: String,
    pub query: Option<String>,
}

impl ServerAddress {
    /// The error never quotes the URL (it holds the admin password).
    pub fn from_admin_url(url: &SecretString) -> Result<ServerAddress, String> {
        let url = url.expose().trim();
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| *s == "postgres" || *s == "postgresql")
            .ok_or("its value is not a postgres:// or postgresql:// URL")?;
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host.is_empty() || host.contains(',') {
            return Err(
                "its value names no single host (postgres://USER:PASSWORD@HOST:5432/postgres)"
                    .into(),
            );
        }
        let query = tail
            .split_once('?')
            .map(|(_, q)| q.to_string())
            .filter(|q| !q.is_empty());
        Ok(ServerAddress {
            scheme: scheme.to_string(),
            host: host.to_string(),
            query,
        })
    }
}

/// The env's connection URL. Role and database names are `[a-z0-9_]` and the password
/// alphanumeric, so nothing needs escaping.
pub fn database_url(
    server: &ServerAddress,
    role: &str,
    password: &SecretString,
    database: &str,
) -> SecretString {
    let query = server
        .query
        .as_deref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    SecretString::new(format!(
        "{}://{role}:{}@{}/{database}{query}",
        server.scheme,
        password.expose(),
        server.host
    ))
}

/// A random password from the OS's CSPRNG: letters and digits only (URL-safe, no quoting).
pub fn generate_password() -> std::io::Result<SecretString> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut urandom = std::fs::File::open("/dev/urandom")?;
    let mut out = String::with_capacity(PASSWORD_LEN);
    let mut buf = [0u8; 64];
    while out.len() < PASSWORD_LEN {
        urandom.read_exact(&mut buf)?;
        // Rejection sampling: 248 = 4 * 62 keeps every character equally likely.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == PASSWORD_LEN {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
        }
    }
    Ok(SecretString::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::new(s.into())
    }

    #[test]
    fn the_server_address_drops_the_admin_credentials() {
        let a = ServerAddress::from_admin_url(&secret(
            "postgres://admin:p%40ss@db.internal:5432/postgres?sslmode=require",
        ))
        .unwrap();
        assert_eq!(a.host, "db.internal:5432");
        assert_eq!(a.scheme, "postgres");
        assert_eq!(a.query.as_deref(), Some("sslmode=require"));
        let url = database_url(&a, "shop__x", &secret("Pw123"), "shop__x");
        assert_eq!(
            url.expose(),
            "postgres://shop__x:Pw123@db.internal:5432/shop__x?sslmode=require"
        );
        let plain = ServerAddress::from_admin_url(&secret("postgresql://a:b@h")).unwrap();
        assert_eq!((plain.host.as_str(), plain.query), ("h", None));
    }

    #[test]
    fn a_bad_admin_url_is_refused_without_quoting_it() {
        for bad in [
            "mysql://root:hunter2@h/x",
            "hunter2",
            "postgres://root:hunter2@/x",
            "postgres://root:hunter2@a,b/x",
        ] {
            let err = ServerAddress::from_admin_url(&secret(bad)).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn passwords_are_long_alphanumeric_and_differ() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.expose().len(), PASSWORD_LEN);
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn the_task_command_holds_names_only() {
        assert_eq!(
            command(DbOp::Create, "shop__x", "shop__x", Some("shop_seed")),
            ["create", "shop__x", "shop__x", "shop_seed"]
        );
        assert_eq!(command(DbOp::Drop, "d", "r", None), ["drop", "d", "r", ""]);
        let ep = entry_point();
        assert_eq!(&ep[..2], ["sh", "-c"]);
        assert!(
            !SCRIPT.contains("PASSWORD \"$"),
            "no password on a command line"
        );
    }
}
