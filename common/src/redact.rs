//! Secret redaction: a URL's password never reaches a terminal or a log.
//!
//! `redis://user:pw@h:6379/0` prints as `redis://user:***@h:6379/0` and
//! `amqp://guest:guest@h:5672/%2f` as `amqp://guest:***@h:5672/%2f`.
//!
//! A secret a peer echoes back (`ERR unknown command 'AUTH', with args beginning with: 'pw'`) is
//! no URL: a tool [`register`]s each secret it sends, and [`redact_all`], which every error line
//! and log line goes through, replaces it by value wherever it shows.

use std::fmt;
use std::sync::{Mutex, PoisonError};

/// The secrets registered so far (at most [`MAX_SECRETS`]).
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// How many secrets [`register`] keeps: a tool sends a handful (one per URL).
pub const MAX_SECRETS: usize = 64;

/// Keeps a secret this process sends to a peer (a password, a token), so that [`redact_all`]
/// hides it wherever it appears in a text, whoever wrote the text. An empty secret, one already
/// kept, or one past [`MAX_SECRETS`] is ignored. A one-character secret is hidden only where it
/// stands quoted (`'x'`, `"x"`), one shorter than 8 characters only where it stands alone (no
/// letter or digit touching it): hiding every such run of letters would leave nothing readable.
pub fn register(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let mut kept = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < MAX_SECRETS && !kept.iter().any(|k| k == secret) {
        kept.push(secret.to_owned());
        // The longest first: a secret holding another is hidden whole.
        kept.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// A secret this long or longer is hidden wherever it appears; a shorter one only where it
/// stands alone (no letter or digit touching it), so that a password `on` leaves
/// `connection` readable while `'on'` or `: on` is hidden.
const HIDDEN_EVERYWHERE: usize = 8;

/// The text with every registered secret replaced by `***`.
fn scrub(text: &str) -> String {
    let kept = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_owned();
    for secret in kept.iter() {
        let chars = secret.chars().count();
        if chars == 1 {
            for q in ['\'', '"'] {
                out = out.replace(&format!("{q}{secret}{q}"), &format!("{q}***{q}"));
            }
        } else if chars >= HIDDEN_EVERYWHERE {
            out = out.replace(secret.as_str(), "***");
        } else {
            out = replace_standalone(&out, secret);
        }
    }
    out
}

/// `text` with each occurrence of `secret` that no letter or digit touches replaced by `***`.
fn replace_standalone(text: &str, secret: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(secret) {
        let end = at + secret.len();
        let before = rest[..at].chars().next_back();
        let after = rest[end..].chars().next();
        let touches = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        if touches(before) || touches(after) {
            out.push_str(secret);
        } else {
            out.push_str("***");
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The URL with its password (if any) replaced by `***`, whatever its shape: the text is taken
/// as one URL, so everything between `://` (or the start) and the last `@` is the user part,
/// even when the password holds `/`, `?`, `#`, spaces or `@`; a `password=` (or `pass=`,
/// `pwd=`, `secret=`, `token=`) value in the query is hidden too. Redact before parsing: this
/// never fails, whatever the text.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    let tail = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..=colon]);
                    out.push_str("***");
                }
                // `user@host`: a user name alone is no secret, unless it is more than a name.
                None if userinfo.contains(['/', '?', '#', ' ']) => out.push_str("***"),
                None => out.push_str(userinfo),
            }
            &rest[at..]
        }
        None => rest,
    };
    out.push_str(&redact_query(tail));
    out
}

/// The names of query parameters whose values are secrets.
const SECRET_KEYS: [&str; 6] = ["password", "pass", "passwd", "pwd", "secret", "token"];

/// Hides the values of secret query parameters (`?password=x` -> `?password=***`).
fn redact_query(text: &str) -> String {
    let Some(q) = text.find('?') else {
        return text.to_owned();
    };
    let (head, query) = text.split_at(q + 1);
    let (query, fragment) = match query.find('#') {
        Some(h) => query.split_at(h),
        None => (query, ""),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s)) => {
                format!("{k}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}{fragment}", pairs.join("&"))
}

/// A display wrapper that redacts the URL it holds (see [`redact_url`]).
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'a>(pub &'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.0))
    }
}

/// Where a URL written in running text ends: white space or a quote closes it.
fn url_end(text: &str) -> usize {
    text.find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '<' | '>'))
        .unwrap_or(text.len())
}

/// Redacts the password of every URL found in a text (a log line, an error message), whatever
/// its shape (see [`redact_url`]), and every [`register`]ed secret. A URL ends at white space or a quote, except that a user part
/// with a space (`redis://:pw x@host`) runs on to its `@`.
pub fn redact_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        // The scheme: the letters (and + - .) just before `://`.
        let scheme_start = rest[..pos]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        out.push_str(&rest[..scheme_start]);
        let after = &rest[pos + 3..];
        let mut end = pos + 3 + url_end(after);
        let token = &rest[pos + 3..end];
        if !token.contains('@') && token.contains(':') {
            // `redis://:pw x@host`: the password may hold spaces; it ends at an `@` on the same
            // line, before any quote or other URL.
            let line_end = after.find(['\n', '\'', '"', '`']).unwrap_or(after.len());
            let line = &after[..line_end];
            if let Some(at) = line.find('@')
                && !line[..at].contains("://")
            {
                end = pos + 3 + at + url_end(&after[at..]);
            }
        }
        // Punctuation that ends a sentence is not part of the URL (`...?pass=pw: refused`).
        while end > pos + 3 && rest[..end].ends_with([':', ',', ';', '.', ')']) {
            end -= 1;
        }
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    scrub(&redact_bare(&out))
}

/// A bare `:password@host` (a Redis URL without its scheme) anywhere in a text.
fn redact_bare(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(colon) = rest.find(':') {
        let word_start = colon == 0
            || rest[..colon]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '='));
        let word = &rest[colon..colon + url_end(&rest[colon..])];
        match word.rfind('@') {
            Some(at) if word_start && at > 1 => {
                out.push_str(&rest[..colon]);
                out.push_str(":***");
                rest = &rest[colon + at..];
            }
            _ => {
                out.push_str(&rest[..=colon]);
                rest = &rest[colon + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("redis://user:pw@h:6379/0"),
            "redis://user:***@h:6379/0"
        );
        assert_eq!(redact_url("redis://:pw@h:6379"), "redis://:***@h:6379");
        assert_eq!(
            redact_url("amqp://guest:guest@h:5672/%2f"),
            "amqp://guest:***@h:5672/%2f"
        );
        assert_eq!(
            redact_url("amqp://u:p@ss@h:5672"),
            "amqp://u:***@h:5672",
            "an unescaped @ in the password is still hidden"
        );
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        // Ambiguous shapes are hidden rather than shown: `redis://h:6379/0?x=a:b@c` could be a
        // password `6379/0?x=a:b` typed without escaping.
        assert_eq!(redact_url("redis://h:6379/0?x=a:b@c"), "redis://h:***@c");
        for u in [
            "redis://127.0.0.1:6379/0",
            "amqp://guest@h:5672/%2f",
            "redis://h:6379/0?x=a:b",
            "no url here",
        ] {
            assert_eq!(redact_url(u), u);
        }
    }

    #[test]
    fn every_url_in_a_text() {
        assert_eq!(
            redact_all("tried redis://:a@x:1 then amqp://g:b@y:2/v, gave up"),
            "tried redis://:***@x:1 then amqp://g:***@y:2/v, gave up"
        );
        assert_eq!(Redacted("redis://:pw@h").to_string(), "redis://:***@h");
        assert_eq!(
            redact_all("cannot connect to redis://h/0?pass=pw: refused"),
            "cannot connect to redis://h/0?pass=***: refused"
        );
    }

    #[test]
    fn registered_secrets_are_hidden_by_value() {
        register("s3cr3t-échoed");
        register("Z");
        register("");
        assert_eq!(
            redact_all("ERR unknown command 'AUTH', with args beginning with: 's3cr3t-échoed' "),
            "ERR unknown command 'AUTH', with args beginning with: '***' "
        );
        assert_eq!(redact_all("close: 'Z' and Zebra"), "close: '***' and Zebra");
        // Registered for the whole test process: a run of letters no other test prints.
        register("qx");
        assert_eq!(
            redact_all("qxz closed: 'qx', qx."),
            "qxz closed: '***', ***."
        );
        for _ in 0..2 * MAX_SECRETS {
            register("another");
        }
        assert!(SECRETS.lock().unwrap().len() <= MAX_SECRETS);
    }

    /// Every malformed shape a user may type: the password never shows.
    #[test]
    fn odd_shapes_hide_the_password() {
        for (url, want) in [
            ("redis://:pw/x@host", "redis://:***@host"),
            ("redis://:pw x@host", "redis://:***@host"),
            ("redis://:pw?x@host", "redis://:***@host"),
            ("redis://:pw#x@host", "redis://:***@host"),
            (":pw@host:6379", ":***@host:6379"),
            (
                "redis://h:6379/0?password=pw",
                "redis://h:6379/0?password=***",
            ),
            ("redis://h/0?db=1&Pass=pw#f", "redis://h/0?db=1&Pass=***#f"),
            (
                "redis+unix:///tmp/r.sock?db=0&pass=pw",
                "redis+unix:///tmp/r.sock?db=0&pass=***",
            ),
            ("amqp://u:p@ss@h:5672/%2f", "amqp://u:***@h:5672/%2f"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
            let line = format!("error: bad URL '{url}': nope");
            let shown = redact_all(&line);
            assert!(!shown.contains("pw"), "{line} -> {shown}");
            assert!(!shown.contains("p@ss"), "{line} -> {shown}");
            // The same text without quotes around it.
            let shown = redact_all(&format!("cannot parse {url}: nope"));
            assert!(!shown.contains("pw"), "{url} -> {shown}");
        }
    }
}
