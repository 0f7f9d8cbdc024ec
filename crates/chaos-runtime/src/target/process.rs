//! A target the harness starts and stops: run by `sh -c` in a process group of its own, its
//! output captured to a log file, polled until healthy, and stopped with its whole group —
//! SIGTERM, a grace period, then SIGKILL — at the end, on Ctrl-C, or on failure (dropping it
//! kills the group, so no error path leaves it behind).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::Context;
use nix::{
    sys::signal::{killpg, Signal},
    unistd::Pid,
};
use tokio::process::{Child, Command};

/// How long the group has to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// How often the health URL is polled while the target starts.
const HEALTH_POLL: Duration = Duration::from_millis(100);
/// How much of the log an error quotes.
const LOG_TAIL_BYTES: usize = 2000;

/// A running target process and its group.
#[derive(Debug)]
pub struct TargetProcess {
    child: Child,
    group: Pid,
    log: PathBuf,
    stopped: bool,
}

/// How the target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It exited within the grace period after SIGTERM (or had exited already).
    Terminated,
    /// It had to be killed.
    Killed,
}

impl TargetProcess {
    /// Starts `command` with `env` in `cwd`, its stdout and stderr appended to `log`.
    pub fn spawn(command: &str, env: &[(String, String)], cwd: &Path, log: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting the target `{command}`"))?;
        let pid = child.id().context("the target exited before it could be watched")?;
        let group = Pid::from_raw(i32::try_from(pid).context("a process id out of range")?);
        Ok(TargetProcess { child, group, log: log.to_owned(), stopped: false })
    }

    /// The process id of the shell that leads the group.
    pub fn pid(&self) -> i32 {
        self.group.as_raw()
    }

    /// Polls `url` until it answers 2xx, failing if the target exits or `timeout` passes.
    pub async fn wait_healthy(&mut self, url: &http::Uri, timeout: Duration) -> anyhow::Result<()> {
        let client = crate::net::http_client::<http_body_util::Empty<bytes::Bytes>>();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "the target exited ({status}) before it was healthy; its log ends:\n{}",
                    self.log_tail()
                );
            }
            let probe = client.get(url.clone());
            if let Ok(Ok(response)) = tokio::time::timeout(HEALTH_POLL * 10, probe).await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                anyhow::bail!(
                    "the target did not answer 2xx at {url} within {}; its log ends:\n{}",
                    crate::units::HumanDuration(timeout),
                    self.log_tail()
                );
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
    }

    /// Stops the whole group: SIGTERM, up to `grace` for it to empty, then SIGKILL.
    pub async fn stop(mut self, grace: Duration) -> Stopped {
        self.stopped = true;
        let _ = killpg(self.group, Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            // Reap the shell, so a zombie does not keep the group alive.
            let _ = self.child.try_wait();
            if killpg(self.group, None).is_err() {
                return Stopped::Terminated;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = killpg(self.group, Signal::SIGKILL);
        let _ = self.child.wait().await;
        Stopped::Killed
    }

    /// The end of the captured log, for error messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(LOG_TAIL_BYTES);
        String::from_utf8_lossy(&text[start..]).into_owned()
    }
}

impl Drop for TargetProcess {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = killpg(self.group, Signal::SIGKILL);
        }
    }
}
