//! A `chaos mock` or `chaos proxy` started as a child process of this one, so what the bench
//! measures is the standalone server as a user runs it — with its own runtime, its own CPU and
//! its own RSS — and not a task sharing this process with the load.

use std::{net::SocketAddr, process::Stdio, time::Duration};

use anyhow::Context;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// How long a child gets to print the address it listens on.
const START_BOUND: Duration = Duration::from_secs(10);

/// A running child server; killed when dropped, so an early return leaves no process behind.
#[derive(Debug)]
pub struct ChildServer {
    pub addr: SocketAddr,
    child: Child,
}

impl ChildServer {
    /// Starts this executable with `args` and waits for the first `http://ADDR` it prints.
    pub async fn start(args: &[&str]) -> anyhow::Result<ChildServer> {
        ChildServer::start_command(&this_executable()?, args).await
    }

    /// Starts `command` (a chaos executable, perhaps behind a wrapper such as
    /// `taskset -c 0 …`) with `args`, and waits for the first `http://ADDR` it prints.
    pub async fn start_command(command: &[String], args: &[&str]) -> anyhow::Result<ChildServer> {
        let (program, leading) = command.split_first().context("an empty command")?;
        let mut child = Command::new(program)
            .args(leading)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting `{} {}`", command.join(" "), args.join(" ")))?;
        let stdout = child.stdout.take().context("the child's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(START_BOUND, lines.next_line())
            .await
            .with_context(|| format!("`chaos {}` printed no address within {START_BOUND:?}", args.join(" ")))?
            .context("reading the child's stdout")?
            .with_context(|| format!("`chaos {}` exited before listening", args.join(" ")))?;
        let addr = address_in(&first)
            .with_context(|| format!("no http:// address in `chaos {}`'s line: {first}", args.join(" ")))?;
        // Keep reading what it prints, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChildServer { addr, child })
    }

    /// Its process id, for reading its CPU time and memory.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The most memory it has held so far (VmHWM), megabytes.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let kb: f64 =
            status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }

    /// User + system CPU seconds it has used so far.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds_of(&self.pid()?.to_string())
    }
}

/// The command that runs this executable (`chaos` itself), for [`ChildServer::start_command`].
pub fn this_executable() -> anyhow::Result<Vec<String>> {
    let program = std::env::current_exe().context("finding the chaos executable")?;
    Ok(vec![program.to_string_lossy().into_owned()])
}

/// User + system CPU seconds process `pid` (or `self`) has used, from `/proc/<pid>/stat`.
pub fn cpu_seconds_of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    // utime and stime, in clock ticks of 1/100 s on Linux.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// The first `http://HOST:PORT` in a line.
fn address_in(line: &str) -> Option<SocketAddr> {
    line.split("http://").nth(1)?.split(|c: char| c.is_whitespace() || c == '/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_either_servers_first_line() {
        let mock = "openai mock listening on http://127.0.0.1:36487 (accepts any non-empty key)";
        let proxy = "openai interposer listening on http://127.0.0.1:38295 → http://127.0.0.1:9/";
        assert_eq!(address_in(mock), Some("127.0.0.1:36487".parse().unwrap()));
        assert_eq!(address_in(proxy), Some("127.0.0.1:38295".parse().unwrap()));
        assert_eq!(address_in("no address here"), None);
    }

    #[test]
    fn this_process_has_spent_some_cpu() {
        let spent = cpu_seconds_of("self").expect("/proc/self/stat reads");
        assert!(spent >= 0.0);
        assert_eq!(cpu_seconds_of("no-such-process"), None);
    }
}
