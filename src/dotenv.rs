//! `.env` files for `params import`: the dotenv syntax people already have (comments, `export `,
//! single and double quotes, escapes, multi-line double-quoted values). Pure; every error names
//! the line, so a file is fixed before anything is written.

/// One `KEY=VALUE` of a file, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A syntax problem at a line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

/// Parses `text` into entries in file order. Duplicate keys are an error naming both lines: which
/// one a loader keeps differs between tools, so envctl does not guess.
pub fn parse(text: &str) -> Result<Vec<Entry>, DotenvError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut entries: Vec<Entry> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].strip_suffix('\r').unwrap_or(lines[i]);
        i += 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let err = |message: String| DotenvError {
            line: number,
            message,
        };
        let body = trimmed
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(trimmed);
        let Some((key, rest)) = body.split_once('=') else {
            return Err(err(format!("`{}` is not KEY=VALUE", shorten(body))));
        };
        let key = key.trim_end();
        if !is_key(key) {
            return Err(err(format!(
                "`{}` is not a variable name (letters, digits and '_', not starting with a digit)",
                shorten(key)
            )));
        }
        let rest = rest.trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            // The value may go on over the following lines until the closing quote.
            let mut raw = quoted.to_string();
            loop {
                if let Some((value, after)) = double_quoted(&raw) {
                    check_after_quote(after).map_err(err)?;
                    break value;
                }
                let Some(next) = lines.get(i) else {
                    return Err(err("the double quote opened here is never closed".into()));
                };
                raw.push('\n');
                raw.push_str(next.strip_suffix('\r').unwrap_or(next));
                i += 1;
            }
        } else if let Some(quoted) = rest.strip_prefix('\'') {
            let Some(end) = quoted.find('\'') else {
                return Err(err(
                    "the single quote opened here is not closed on this line".into(),
                ));
            };
            check_after_quote(&quoted[end + 1..]).map_err(err)?;
            quoted[..end].to_string()
        } else {
            // Unquoted: a ` #` starts a comment; surrounding blanks are not part of the value.
            let value = match rest.find(" #").or_else(|| rest.find("\t#")) {
                Some(at) => &rest[..at],
                None => rest,
            };
            value.trim_end().to_string()
        };
        if let Some(first) = entries.iter().find(|e| e.key == key) {
            return Err(err(format!(
                "`{key}` is set again (first set on line {})",
                first.line
            )));
        }
        entries.push(Entry {
            key: key.to_string(),
            value,
            line: number,
        });
    }
    Ok(entries)
}

/// The value of a double-quoted string whose opening quote is already consumed, and what follows
/// its closing quote; `None` when `raw` has no closing quote yet.
fn double_quoted(raw: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = raw.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, &raw[at + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 't')) => out.push('\t'),
                Some((_, e @ ('"' | '\\' | '$' | '\''))) => out.push(e),
                // An unknown escape is kept as written, as dotenv loaders do.
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    None
}

fn check_after_quote(after: &str) -> Result<(), String> {
    let after = after.trim_start();
    if after.is_empty() || after.starts_with('#') {
        Ok(())
    } else {
        Err(format!(
            "unexpected `{}` after the closing quote",
            shorten(after)
        ))
    }
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// At most 40 characters of `s`, for messages (a value may be a secret: never the whole line).
fn shorten(s: &str) -> String {
    let head: String = s.chars().take(40).collect();
    if head.len() < s.len() {
        format!("{head}...")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .expect("parses")
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn comments_export_and_blanks() {
        let text = "# a comment\n\nexport API_URL=https://api.example.test # trailing\n  LOG_LEVEL = debug  \nEMPTY=\nHASH=a#b\n";
        assert_eq!(
            pairs(text),
            [
                pair("API_URL", "https://api.example.test"),
                pair("LOG_LEVEL", "debug"),
                pair("EMPTY", ""),
                pair("HASH", "a#b"),
            ]
        );
    }

    #[test]
    fn quotes_and_escapes() {
        let text = "A=\"say \\\"hi\\\"\\n\\tand \\\\ \\$HOME\" # c\nB='no \\n escapes # here'\nC=\"unknown \\q kept\"\r\nD=\"\"\n";
        assert_eq!(
            pairs(text),
            [
                pair("A", "say \"hi\"\n\tand \\ $HOME"),
                pair("B", "no \\n escapes # here"),
                pair("C", "unknown \\q kept"),
                pair("D", ""),
            ]
        );
    }

    #[test]
    fn multi_line_double_quoted_values_keep_their_lines() {
        let text = "KEY=\"-----BEGIN KEY-----\nabc\n\n-----END KEY-----\"\nNEXT=1\n";
        let entries = parse(text).expect("parses");
        assert_eq!(
            entries[0].value,
            "-----BEGIN KEY-----\nabc\n\n-----END KEY-----"
        );
        assert_eq!(entries[1].line, 5);
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let e = parse("A=1\nB=2\n# x\nA=3\n").expect_err("duplicate");
        assert_eq!(e.line, 4);
        assert_eq!(e.message, "`A` is set again (first set on line 1)");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let cases = [
            ("A=1\nnot a pair\n", 2, "is not KEY=VALUE"),
            ("1A=x\n", 1, "not a variable name"),
            ("A=1\nB=\"open\nstill open\n", 2, "never closed"),
            ("A='open\n", 1, "not closed on this line"),
            ("A=\"x\" y\n", 1, "after the closing quote"),
        ];
        for (text, line, message) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text:?}: {e:?}");
            assert!(e.message.contains(message), "{text:?}: {e:?}");
        }
    }

    #[test]
    fn messages_never_show_a_whole_long_value() {
        let secret = "x".repeat(100);
        let e = parse(&format!("A=\"v\" {secret}\n")).expect_err("junk after quote");
        assert!(!e.message.contains(&secret));
    }
}
