//! The one minijinja setup every template envctl renders goes through (task and service
//! definitions, lifecycle policies, image buildspecs, the janitor's buildspec, the CI workflow),
//! so they all fail the same way on a typo and print the same way.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// A fresh environment with envctl's rules; callers add their own functions and filters.
///
/// - **Strict undefined**: a misspelt variable is an error, never an empty string.
/// - **No auto-escaping**: the outputs are JSON, YAML and shell, not HTML. minijinja would
///   JSON-escape `.json.j2` output, turning `"{{ service }}"` into `""web""`; plain substitution
///   matches what ecspresso users write, and templates quote with `| tojson` (or `| sh`).
/// - **Trailing newline kept**, so a rendered file ends like its template.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_unescaped_and_keeps_the_trailing_newline() {
        let mut env = environment();
        let ctx = minijinja::context! { service => "web", quote => "a\"b" };
        // A `.json.j2` name would pick JSON escaping under minijinja's default callback.
        env.add_template(
            "t.json.j2",
            "{\"s\": \"{{ service }}\", \"q\": {{ quote | tojson }}}\n",
        )
        .expect("template parses");
        let out = env
            .get_template("t.json.j2")
            .and_then(|t| t.render(&ctx))
            .expect("renders");
        assert_eq!(out, "{\"s\": \"web\", \"q\": \"a\\\"b\"}\n");
        let e = env.render_str("{{ nope }}", &ctx).unwrap_err();
        assert_eq!(e.kind(), minijinja::ErrorKind::UndefinedError);
    }
}
