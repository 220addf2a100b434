//! The one confirm tracker: which messages a channel in confirm mode published are still waiting
//! for the broker's acknowledgement.
//!
//! Confirms carry the channel's delivery tag (1, 2, ... in publishing order) and may cover every
//! earlier tag (`multiple`). Tags are contiguous, so the waiting messages sit in a queue indexed
//! by `tag - first tag`: settling one is O(1), settling `multiple` is linear in what it covers,
//! and settled messages leave from the front. Used by [`Publisher`](super::Publisher) (which
//! republishes what a lost channel left waiting) and by the publisher-confirms tutorial.

use std::collections::VecDeque;

use amiquip::Confirm;

/// A message a confirm settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled<T> {
    /// Its delivery tag.
    pub tag: u64,
    /// What was published.
    pub item: T,
    /// Acknowledged (`false`: nack-ed).
    pub acked: bool,
    /// The confirm covered every earlier tag too.
    pub multiple: bool,
}

/// The messages of one channel that wait for their confirm, by delivery tag.
#[derive(Debug)]
pub struct Tracker<T> {
    /// The tag of `slots[0]`.
    first_tag: u64,
    /// `None`: settled, waiting for the ones before it to leave the queue.
    slots: VecDeque<Option<T>>,
    waiting: usize,
}

impl<T> Default for Tracker<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Tracker<T> {
    /// A tracker for a channel that has not published yet (first tag 1).
    pub fn new() -> Self {
        Self {
            first_tag: 1,
            slots: VecDeque::new(),
            waiting: 0,
        }
    }

    /// Records the next publish on the channel; answers its delivery tag.
    pub fn published(&mut self, item: T) -> u64 {
        self.slots.push_back(Some(item));
        self.waiting += 1;
        self.first_tag + self.slots.len() as u64 - 1
    }

    /// Applies one confirm from the broker: `settled` gets each message it settles, in tag
    /// order. A tag already settled (or never published) is ignored.
    pub fn confirm(&mut self, confirm: &Confirm, mut settled: impl FnMut(Settled<T>)) {
        let (payload, acked) = match confirm {
            Confirm::Ack(p) => (p, true),
            Confirm::Nack(p) => (p, false),
        };
        let Some(offset) = payload.delivery_tag.checked_sub(self.first_tag) else {
            return;
        };
        let last = usize::try_from(offset).unwrap_or(usize::MAX);
        let range = if payload.multiple {
            0..=last.min(self.slots.len().saturating_sub(1))
        } else if last < self.slots.len() {
            last..=last
        } else {
            return;
        };
        for i in range {
            if let Some(item) = self.slots.get_mut(i).and_then(Option::take) {
                self.waiting -= 1;
                settled(Settled {
                    tag: self.first_tag + i as u64,
                    item,
                    acked,
                    multiple: payload.multiple,
                });
            }
        }
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.first_tag += 1;
        }
    }

    /// Messages waiting for their confirm.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Messages published on this channel so far (the last tag handed out).
    pub fn published_count(&self) -> u64 {
        self.first_tag + self.slots.len() as u64 - 1
    }

    /// For a new channel (tags start again at 1): answers the messages still waiting, in the
    /// order they were published.
    pub fn restart(&mut self) -> Vec<T> {
        let waiting = self.slots.drain(..).flatten().collect();
        self.first_tag = 1;
        self.waiting = 0;
        waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amiquip::ConfirmPayload;

    fn ack(tag: u64, multiple: bool) -> Confirm {
        Confirm::Ack(ConfirmPayload {
            delivery_tag: tag,
            multiple,
        })
    }

    fn apply(t: &mut Tracker<String>, c: &Confirm) -> Vec<Settled<String>> {
        let mut got = Vec::new();
        t.confirm(c, |s| got.push(s));
        got
    }

    #[test]
    fn multiple_out_of_order_and_nacks() {
        let mut t = Tracker::new();
        for i in 1..=6 {
            assert_eq!(t.published(format!("m{i}")), i);
        }
        assert_eq!(apply(&mut t, &ack(2, false)).len(), 1);
        // Covers 1 and 3; 2 already done.
        let got = apply(&mut t, &ack(3, true));
        assert_eq!(got.iter().map(|s| s.tag).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(t.waiting(), 3);
        let nacked = apply(
            &mut t,
            &Confirm::Nack(ConfirmPayload {
                delivery_tag: 5,
                multiple: true,
            }),
        );
        assert_eq!(
            nacked,
            [
                Settled {
                    tag: 4,
                    item: "m4".into(),
                    acked: false,
                    multiple: true
                },
                Settled {
                    tag: 5,
                    item: "m5".into(),
                    acked: false,
                    multiple: true
                }
            ]
        );
        assert!(apply(&mut t, &ack(5, false)).is_empty(), "already settled");
        assert!(apply(&mut t, &ack(60, false)).is_empty(), "never published");
        assert_eq!(apply(&mut t, &ack(6, false)).len(), 1);
        assert_eq!((t.waiting(), t.published_count()), (0, 6));
        assert_eq!(t.published("m7".into()), 7);
    }

    #[test]
    fn restart_hands_back_the_waiting_in_order() {
        let mut t = Tracker::new();
        for i in 1..=5 {
            t.published(i);
        }
        t.confirm(&ack(1, false), drop);
        t.confirm(&ack(3, false), drop);
        assert_eq!(t.restart(), [2, 4, 5]);
        assert_eq!((t.waiting(), t.published_count()), (0, 0));
        assert_eq!(t.published(9), 1);
    }
}
