//! Secret redaction: a URL's password never reaches a terminal or a log.
//!
//! `redis://user:pw@h:6379/0` prints as `redis://user:***@h:6379/0` and
//! `amqp://guest:guest@h:5672/%2f` as `amqp://guest:***@h:5672/%2f`.

use std::fmt;

/// The URL with its password (if any) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    redact_all(url)
}

/// A display wrapper that redacts the URL it holds.
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'a>(pub &'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_all(self.0))
    }
}

/// Redacts the password of every `scheme://user:password@host` URL found in a text.
pub fn redact_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or white space.
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..=colon]);
                        out.push_str("***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
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
        for u in [
            "redis://127.0.0.1:6379/0",
            "amqp://guest@h:5672/%2f",
            "redis://h:6379/0?x=a:b@c",
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
    }
}
