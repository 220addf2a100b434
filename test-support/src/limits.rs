//! Running a binary where the system refuses what it asks for.

use std::process::Command;

/// `bin args` under `prlimit --nproc=1`: no thread can start, so a tool that asks for worker
/// threads is refused at once, the same way every time (an address-space limit instead makes
/// some allocation fail first, at a point that varies with the load). Root ignores the limit,
/// so as root the command runs as `nobody`.
pub fn without_threads(bin: &str, args: &[&str]) -> Command {
    let mut cmd = crate::command("prlimit");
    cmd.arg("--nproc=1");
    if rustix::process::getuid().is_root() {
        cmd.args([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]);
    }
    cmd.arg(bin).args(args);
    cmd
}
