//! poetry-client's progress on stderr: a bar per download (a few downloads) or one for all
//! (many), only when stderr is a terminal; the report lines either way.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::client::{Observer, TaskReport};

/// Progress on stderr: a bar per download (a few downloads) or one for all (many), only when
/// stderr is a terminal; the report lines either way.
pub(super) struct Console {
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    /// One spinner per download in progress, when there are few downloads.
    tasks: Option<Mutex<HashMap<usize, ProgressBar>>>,
}

/// Up to this many downloads get a spinner each.
const BARS_PER_TASK_UP_TO: usize = 20;

impl Console {
    /// Bars for `downloads` downloads, when stderr is a terminal.
    pub(super) fn new(downloads: usize) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { bars: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(downloads as u64));
        overall.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} poems  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        let tasks = (downloads <= BARS_PER_TASK_UP_TO).then(|| Mutex::new(HashMap::new()));
        Self {
            bars: Some(Bars {
                multi,
                overall,
                tasks,
            }),
        }
    }

    /// Clears the bars (before the last line).
    pub(super) fn done(&self) {
        if let Some(bars) = &self.bars {
            bars.overall.finish_and_clear();
        }
    }
}

impl Observer for Console {
    fn started(&self, task: usize, addr: SocketAddr) {
        let Some(Bars {
            multi,
            overall,
            tasks: Some(tasks),
        }) = &self.bars
        else {
            return;
        };
        let bar = ProgressBar::new_spinner()
            .with_style(
                ProgressStyle::with_template(
                    "{spinner} Task {prefix}: {bytes} from {msg}  {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            )
            .with_prefix(task.to_string())
            .with_message(addr.to_string());
        let bar = multi.insert_before(overall, bar);
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut tasks) = tasks.lock() {
            tasks.insert(task, bar);
        }
    }

    fn received(&self, task: usize, bytes: usize) {
        if let Some(Bars {
            tasks: Some(tasks), ..
        }) = &self.bars
            && let Ok(tasks) = tasks.lock()
            && let Some(bar) = tasks.get(&task)
        {
            bar.set_position(bytes as u64);
        }
    }

    fn finished(&self, report: &TaskReport) {
        let lines = report.lines();
        let Some(bars) = &self.bars else {
            for line in lines {
                common::exit::say(&line);
            }
            return;
        };
        if let Some(tasks) = &bars.tasks
            && let Some(bar) = tasks.lock().ok().and_then(|mut t| t.remove(&report.task))
        {
            bar.finish_and_clear();
            bars.multi.remove(&bar);
        }
        bars.overall.inc(1);
        for line in lines {
            let _ = bars.multi.println(line);
        }
    }
}
