//! The tally of one test: what its connections share while they run (one thread: `Cell`s, no
//! locks), turned into a [`TestReport`] at the end.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::{BenchOptions, Test, TestReport};
use crate::error::Error;

/// What the connections of one test share (one thread: `Cell`s, no locks).
pub(super) struct Shared {
    /// Set by a signal: no new batch starts (the batches in flight finish, within the timeout).
    pub(super) stop: Rc<Cell<bool>>,
    pub(super) remaining: Cell<u64>,
    pub(super) pipeline: u64,
    pub(super) ok: Cell<u64>,
    pub(super) errors: Cell<u64>,
    pub(super) unsent: Cell<u64>,
    pub(super) reconnects: Cell<u64>,
    pub(super) first_error: RefCell<Option<String>>,
    pub(super) fatal: RefCell<Option<Error>>,
    pub(super) latency: RefCell<Histogram<u64>>,
}

impl Shared {
    pub(super) fn new(o: &BenchOptions, stop: Rc<Cell<bool>>) -> Self {
        Self {
            stop,
            remaining: Cell::new(o.requests),
            pipeline: o.pipeline as u64,
            ok: Cell::new(0),
            errors: Cell::new(0),
            unsent: Cell::new(0),
            reconnects: Cell::new(0),
            first_error: RefCell::new(None),
            fatal: RefCell::new(None),
            latency: RefCell::new(
                Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            ),
        }
    }

    /// Takes the next batch: up to `-P` requests, 0 when the test is done.
    pub(super) fn claim(&self) -> u64 {
        if self.fatal.borrow().is_some() || self.stop.get() {
            return 0;
        }
        let k = self.remaining.get().min(self.pipeline);
        self.remaining.set(self.remaining.get() - k);
        k
    }

    pub(super) fn fail(&self, n: u64, why: impl FnOnce() -> String) {
        self.errors.set(self.errors.get() + n);
        let mut first = self.first_error.borrow_mut();
        if first.is_none() {
            // A peer may echo a secret in its words: hidden by value.
            *first = Some(common::redact::redact_all(&why()));
        }
    }

    pub(super) fn report(&self, test: Test, elapsed: Duration) -> TestReport {
        TestReport {
            test,
            ok: self.ok.get(),
            errors: self.errors.get(),
            unsent: self.unsent.get(),
            reconnects: self.reconnects.get(),
            first_error: self.first_error.borrow().clone(),
            elapsed,
            latency: self.latency.borrow().clone(),
        }
    }
}
