//! Netstrings, the framing of the tutorial's transformation protocol: `<len>:<payload>,`, where
//! `<len>` is the payload's length in bytes, in decimal, without leading zeros (`0` alone is the
//! empty payload). `12:hello world!,` carries `hello world!`.
//!
//! [`decode`] works on a buffer that may hold only part of a netstring so far, and never panics,
//! whatever the bytes.

/// What [`decode`] found in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A valid beginning: read more.
    Incomplete,
    /// A whole netstring.
    Complete {
        /// Its payload.
        payload: &'a [u8],
        /// How many bytes of the buffer it took.
        used: usize,
    },
}

/// Why bytes are not a netstring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetstringError {
    /// The length is missing or holds something other than digits before the `:`.
    #[error("bad framing: the length is not a decimal number followed by ':'")]
    BadLength,
    /// The length has a leading zero.
    #[error("bad framing: the length has a leading zero")]
    LeadingZero,
    /// The length is over the limit.
    #[error("the length is over the limit of {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The payload is not followed by `,`.
    #[error("bad framing: the payload is not followed by ','")]
    MissingComma,
}

/// Decodes the netstring at the start of `buf`, refusing payloads longer than `max_len` as soon
/// as the length shows it (before the payload arrives).
pub fn decode(buf: &[u8], max_len: usize) -> Result<Frame<'_>, NetstringError> {
    let mut len: usize = 0;
    let mut digits = 0;
    for &b in buf {
        match b {
            b'0'..=b'9' => {
                if digits == 1 && len == 0 {
                    return Err(NetstringError::LeadingZero);
                }
                len = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(b - b'0')))
                    .filter(|&l| l <= max_len)
                    .ok_or(NetstringError::TooLong { max: max_len })?;
                digits += 1;
            }
            b':' if digits > 0 => {
                let body = &buf[digits + 1..];
                if body.len() <= len {
                    return Ok(Frame::Incomplete);
                }
                if body[len] != b',' {
                    return Err(NetstringError::MissingComma);
                }
                return Ok(Frame::Complete {
                    payload: &body[..len],
                    used: digits + 1 + len + 1,
                });
            }
            _ => return Err(NetstringError::BadLength),
        }
    }
    Ok(Frame::Incomplete)
}

/// Encodes the concatenation of `parts` as one netstring.
pub fn encode(parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let prefix = format!("{len}:");
    let mut out = Vec::with_capacity(prefix.len() + len + 1);
    out.extend_from_slice(prefix.as_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out.push(b',');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 99_999;

    fn complete(buf: &[u8]) -> (&[u8], usize) {
        match decode(buf, MAX) {
            Ok(Frame::Complete { payload, used }) => (payload, used),
            other => panic!("{buf:?}: {other:?}"),
        }
    }

    #[test]
    fn the_tutorial_example() {
        assert_eq!(
            complete(b"27:cummingsify.HERE IS MY POEM,"),
            (&b"cummingsify.HERE IS MY POEM"[..], 31)
        );
        assert_eq!(encode(&[b"here is my poem"]), b"15:here is my poem,");
        assert_eq!(complete(b"0:,rest"), (&b""[..], 3));
    }

    #[test]
    fn beginnings_are_incomplete() {
        for buf in [&b""[..], b"2", b"27", b"2:", b"2:a", b"2:ab"] {
            assert_eq!(decode(buf, MAX), Ok(Frame::Incomplete), "{buf:?}");
        }
    }

    #[test]
    fn bad_input_is_refused() {
        use NetstringError::*;
        for (buf, err) in [
            (&b":a,"[..], BadLength),
            (b"x:a,", BadLength),
            (b"1a:a,", BadLength),
            (b" 1:a,", BadLength),
            (b"-1:a,", BadLength),
            (b"01:a,", LeadingZero),
            (b"00:,", LeadingZero),
            (b"1:ab", MissingComma),
            (b"100000:", TooLong { max: MAX }),
            (b"99999999999999999999999999", TooLong { max: MAX }),
        ] {
            assert_eq!(decode(buf, MAX), Err(err), "{buf:?}");
        }
        assert_eq!(decode(b"6:", 5), Err(TooLong { max: 5 }));
        assert!(matches!(decode(b"5:", 5), Ok(Frame::Incomplete)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics(buf in proptest::collection::vec(any::<u8>(), 0..64), max in 0usize..200) {
            let _ = decode(&buf, max);
        }

        #[test]
        fn never_panics_on_near_misses(s in "[0-9:,.a]{0,24}", max in 0usize..30) {
            let _ = decode(s.as_bytes(), max);
        }

        #[test]
        fn round_trips(payload in proptest::collection::vec(any::<u8>(), 0..300), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut buf = encode(&[&payload]);
            let len = buf.len();
            // Every strict beginning asks for more.
            for cut in 0..len {
                prop_assert_eq!(decode(&buf[..cut], MAX), Ok(Frame::Incomplete));
            }
            buf.extend_from_slice(&tail);
            prop_assert_eq!(decode(&buf, MAX), Ok(Frame::Complete { payload: &payload, used: len }));
        }
    }
}
