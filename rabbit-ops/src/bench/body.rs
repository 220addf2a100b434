//! What a bench message carries: its sequence number, how late it went out after the time it
//! was due, and when it was published, in its first [`HEADER`] bytes; zeros after them, up to
//! `--size`.
//!
//! Layout, little-endian: bytes 0-3 the sequence number (u32: a run has at most
//! [`MAX_MESSAGES`](crate::cli::values::MAX_MESSAGES) of them, plus a few per producer), bytes
//! 4-7 the microseconds between the time the message was due and its publish (0 closed-loop,
//! where a message is due when it is published; at most `u32::MAX`, 71 minutes), bytes 8-15 the
//! publish time in nanoseconds since the start of the run. A closed-loop body is thus its
//! sequence number and its publish time as two u64, as the bench has always written them.

/// The smallest body: sequence number, lateness and publish time.
pub const HEADER: usize = 16;

/// The stamp of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Its sequence number.
    pub seq: u32,
    /// Microseconds between the time it was due and its publish.
    pub late_micros: u32,
    /// When it was published, in nanoseconds since the start of the run.
    pub sent_nanos: u64,
}

impl Stamp {
    /// When it was due, in nanoseconds since the start of the run.
    pub fn due_nanos(&self) -> u64 {
        self.sent_nanos
            .saturating_sub(u64::from(self.late_micros) * 1000)
    }
}

/// Encodes a body of `size` bytes (at least [`HEADER`]): the stamp, zero padding.
pub fn body(stamp: Stamp, size: usize) -> Vec<u8> {
    let mut b = vec![0u8; size.max(HEADER)];
    b[..4].copy_from_slice(&stamp.seq.to_le_bytes());
    b[4..8].copy_from_slice(&stamp.late_micros.to_le_bytes());
    b[8..16].copy_from_slice(&stamp.sent_nanos.to_le_bytes());
    b
}

/// Decodes the stamp of a body (`None` when it is shorter than [`HEADER`]).
pub fn decode(body: &[u8]) -> Option<Stamp> {
    let seq = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
    let late_micros = u32::from_le_bytes(body.get(4..8)?.try_into().ok()?);
    let sent_nanos = u64::from_le_bytes(body.get(8..16)?.try_into().ok()?);
    Some(Stamp {
        seq,
        late_micros,
        sent_nanos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(seq: u32, sent_nanos: u64) -> Stamp {
        Stamp {
            seq,
            late_micros: 0,
            sent_nanos,
        }
    }

    #[test]
    fn bodies_carry_sequence_and_time() {
        let b = body(stamp(7, 123_456), 100);
        assert_eq!(b.len(), 100);
        assert_eq!(decode(&b), Some(stamp(7, 123_456)));
        assert_eq!(body(stamp(1, 2), 3).len(), HEADER);
        assert_eq!(decode(&[0; 10]), None);
    }

    #[test]
    fn a_late_message_carries_its_due_time() {
        let late = Stamp {
            seq: 9,
            late_micros: 1_500,
            sent_nanos: 10_000_000,
        };
        let b = body(late, 16);
        assert_eq!(decode(&b), Some(late));
        assert_eq!(late.due_nanos(), 8_500_000);
        // Closed-loop, the two u64 of the bodies the bench always wrote.
        let b = body(stamp(7, 123_456), 16);
        assert_eq!(u64::from_le_bytes(b[..8].try_into().unwrap()), 7);
        assert_eq!(u64::from_le_bytes(b[8..].try_into().unwrap()), 123_456);
    }
}
