//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Chaos-testing harness for LLM gateways and clients.
#[derive(Debug, Parser)]
#[command(name = "chaos", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: start mocks and interposers, drive load through the phases, check the
    /// expectations, and write reports/<scenario>-<timestamp>/: results.json, report.html,
    /// summary.md, junit.xml and journal.ndjson. Exit 0 pass, 1 fail, 2 bad input, 3 invalid or
    /// inconclusive run, 4 halted, 130 interrupted.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Folder that receives the run's folder.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
        /// Allow a `url` or `command` target, and `url` upstreams (real providers), beyond
        /// loopback.
        #[arg(long)]
        allow_remote: bool,
        /// Also trust the CA certificates in this PEM file for `https://` `url` upstreams (a
        /// private gateway's, a test server's); the Mozilla roots are always trusted.
        #[arg(long, value_name = "PEM")]
        upstream_ca: Option<PathBuf>,
        /// Run the whole plan (load, phases, measurements) with no fault firing: a rehearsal.
        #[arg(long)]
        dry_run: bool,
        /// Impose the fault decisions an earlier run of this scenario journaled (its
        /// journal.ndjson) instead of drawing them.
        #[arg(long, value_name = "JOURNAL")]
        replay: Option<PathBuf>,
        #[command(flatten)]
        speed: SpeedArg,
        /// Measure the harness's own noise floor on this machine first (about 15 s: the
        /// interposer's added latency, the generator's start lag, a mock's token timing) and
        /// record it in results.json and the report; `--calibrate=FILE` reads it from a
        /// `chaos bench --out FILE` instead.
        #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
        calibrate: Option<Option<PathBuf>>,
        #[command(flatten)]
        ops: OpsArgs,
        /// Where upstream NAME's interposer listens, over the scenario's `listen:` (repeatable):
        /// `--listen openai=127.0.0.1:9101`, for a gateway configured in advance.
        #[arg(long, value_name = "NAME=ADDR")]
        listen: Vec<String>,
        /// Play shard K (from 0) of N of the load: 1/N of the arrival rate, bursts, users and
        /// limits, with arrivals and random draws of its own, so that N runs (one per machine)
        /// are N independent samples that `chaos merge` adds up to one run of the whole plan.
        #[arg(long, value_name = "K/N", default_value = "0/1")]
        shard: crate::scenario::shard::Shard,
        #[command(flatten)]
        split: SplitArgs,
        /// Skip the preflight: the probe requests sent through a `url` or `command` target
        /// before the clock starts, which must each reach an interposer (else exit 3). A phase
        /// in which no request reached an interposer still makes the run invalid.
        #[arg(long)]
        no_preflight: bool,
        /// The header and idle timeouts and the cap on connections of the run's interposers and
        /// mocks.
        #[command(flatten)]
        connections: ConnectionArgs,
    },
    /// Send a few probe requests through the scenario's target and check that each reaches an
    /// interposer, without running anything else (the run's preflight alone). Exit 0 when they
    /// do, 3 when the target goes around the interposers, 2 on bad input.
    Check {
        /// The scenario file.
        file: PathBuf,
        /// Allow a `url` or `command` target beyond loopback.
        #[arg(long)]
        allow_remote: bool,
        /// Where upstream NAME's interposer listens, over the scenario's `listen:` (repeatable).
        #[arg(long, value_name = "NAME=ADDR")]
        listen: Vec<String>,
    },
    /// Render junit.xml, summary.md and report.html again from a run's results.json, without running
    /// anything.
    Report {
        /// The run's results.json.
        results: PathBuf,
        /// Folder to write into; default: the folder results.json is in.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Merge the results of runs of one scenario (its load split over machines with `run
    /// --shard K/N`) into one results.json, its figures, expectations and verdict computed again from the runs' summed
    /// tallies, with its renderings; exits with the merged verdict's code.
    Merge {
        /// The runs' results.json files.
        #[arg(required = true, num_args = 2..)]
        results: Vec<PathBuf>,
        /// Folder to write into; default: reports/<scenario>-merged-<timestamp>.
        #[arg(short = 'o', long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Also merge runs of the same load and seed (replicas: the same arrivals and fault
        /// draws, so copies of one sample); the merged results say they were replicas. Without
        /// it, only shards of one load (`run --shard K/N`) merge.
        #[arg(long)]
        replicas: bool,
    },
    /// Check a scenario without running anything.
    Validate {
        /// The scenario file.
        file: PathBuf,
        /// Accept a `url` or `command` target beyond loopback, as `run --allow-remote` would.
        #[arg(long)]
        allow_remote: bool,
        /// Check (and summarise) the plan as `run --speed F` would play it.
        #[command(flatten)]
        speed: SpeedArg,
        /// Check the plan as shard K (from 0) of N of the load: 1/N of the arrival rate, bursts, users and
        /// limits, with arrivals and random draws of its own, so that N runs (one per machine)
        /// are N independent samples that `chaos merge` adds up to one run of the whole plan.
        #[arg(long, value_name = "K/N", default_value = "0/1")]
        shard: crate::scenario::shard::Shard,
    },
    /// Measure the harness's own noise floor on this machine: the interposer's added latency
    /// and throughput against going direct, the generator's highest sustained open-model rate,
    /// a mock's streaming timing at 2,000 streams. Prints a table and writes the figures as
    /// JSON (about two minutes; --quick for a few seconds).
    Bench {
        /// Small loads, a few seconds in all: checks the machinery, measures little.
        #[arg(long)]
        quick: bool,
        /// Where to write the JSON; default reports/bench-<timestamp>.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of an output file or of a scenario (pretty JSON, to stdout).
    Schema {
        /// The file whose schema to print.
        #[arg(value_enum)]
        of: SchemaOf,
    },
    /// Grade a gateway's resilience on the standard suite: one generated scenario a dimension
    /// (429 with retry-after, quota, brownout, hard down, recovery, slow first token, cut
    /// streams, circuit breaking, retries across the chain, cost), run one after another, each
    /// with its own run folder; writes scorecard.json, scorecard.md and scorecard.html. Exit 0,
    /// or 1 when the overall grade is below --fail-below; 2 on bad input. `chaos scorecard
    /// compare A.json B.json` compares cards.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Scorecard {
        #[command(subcommand)]
        action: Option<ScorecardAction>,
        /// A target file (docs/scorecard.md), or `builtin:<profile>` for the built-in client
        /// (openai-python, anthropic-python, openai-node, anthropic-node, naive, exponential).
        #[arg(long, value_name = "TARGET", required = true)]
        target: Option<String>,
        /// The suite to run.
        #[arg(long, default_value = "standard", value_parser = ["standard"])]
        suite: String,
        /// The short variant: every phase shorter (10 s a scenario instead of 44 s).
        #[arg(long)]
        quick: bool,
        /// Folder for the scenarios, the runs and the card; default reports/scorecard-<target>-<timestamp>.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Exit 1 when the overall grade is below this letter (A–F); an inconclusive grade is below every letter.
        #[arg(long, value_name = "GRADE")]
        fail_below: Option<String>,
        /// Play the suite F times faster (a built-in target only; a gateway runs at real time).
        #[arg(long = "speed", value_name = "F", default_value = "1")]
        speed: crate::speed::Speed,
    },
    /// Serve mock providers standalone (until Ctrl-C), to point a gateway or an SDK at by hand.
    Mock(MockArgs),
    /// Run one interposer standalone in front of an upstream, applying faults (until Ctrl-C).
    Proxy(ProxyArgs),
}

/// What `chaos scorecard` does besides grading.
#[derive(Debug, Subcommand)]
pub enum ScorecardAction {
    /// Compare two or more scorecard.json files side by side: each dimension's grade and
    /// figure in each card, and what got better or worse from the first card to the last (by
    /// grade, then by the figure within a grade). Exit 0; 1 with --fail-on-regression when a
    /// dimension's grade got worse; 2 on a file that is not a scorecard this version reads, or
    /// cards of different suites or rubrics (unless --allow-mixed).
    Compare(CompareArgs),
}

/// Arguments of `chaos scorecard compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The cards, oldest (or "before") first.
    #[arg(value_name = "SCORECARD.json", num_args = 2.., required = true)]
    pub cards: Vec<PathBuf>,
    /// `table` for a terminal, `md` to paste into a pull request, `json` (`chaos schema
    /// scorecard-compare`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
    /// Exit 1 when any dimension's grade got worse from the first card to the last (a figure
    /// that moved within its grade does not count).
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Compare cards of different suites or rubric versions, under a note that says so.
    #[arg(long)]
    pub allow_mixed: bool,
}

/// `chaos scorecard compare --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Table,
    Md,
    Json,
}

/// `--speed F`, shared by `run` and `validate`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct SpeedArg {
    /// Play the scenario F times faster than real time (a finite number above 0).
    ///
    /// Every duration the scenario states is divided by F: phases, burst instants, the drain,
    /// think times, fault durations (retry_after, latency, hang, stall, trickle), the mocks'
    /// TTFT (their tokens/s and a bandwidth × F), the minute of rate limits, request timeouts,
    /// the built-in client's backoff, the SLO period and the latency thresholds of
    /// expectations. Arrival rates stay per real second, so the run sends F times fewer
    /// requests; counts, probabilities and a command target's start-up timeout do not change.
    /// results.json records F (`scenario.speed`); its figures are wall time.
    #[arg(long = "speed", value_name = "F", default_value = "1", allow_negative_numbers = true)]
    pub factor: crate::speed::Speed,
    /// Allow `--speed` other than 1 with a `url` or `command` target, whose gateway runs on its
    /// own clock and may act differently on shortened waits (refused without this).
    #[arg(long = "speed-real-target")]
    pub real_target: bool,
}

/// The roles of a split run (`chaos run --role …`).
#[derive(Debug, Clone, clap::Args)]
pub struct SplitArgs {
    /// Play one part of a split run: `upstreams` (the mocks, interposers and phases, and the
    /// coordinator that writes the results; needs --shards and --control) or `load` (one shard
    /// of the load; needs --shard K/N and --coordinator).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<RoleArg>,
    /// The number of load shards the upstreams role waits for.
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// The upstreams role's control address a load shard checks in with: http://HOST:PORT.
    #[arg(long, value_name = "URL")]
    pub coordinator: Option<String>,
    /// The upstreams role, once its results are written, serves them on the --control address
    /// (GET /split/results/report.html, results.json, junit.xml, summary.md) until SIGTERM or
    /// Ctrl-C, then exits with the verdict's code: a pod stays up rather than being restarted.
    #[arg(long)]
    pub keep_serving: bool,
}

/// `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Upstreams,
    Load,
}

impl SplitArgs {
    /// The role these flags ask for, with `shard` (`--shard`), or why they cannot be played.
    pub fn role(&self, shard: crate::scenario::shard::Shard) -> Result<crate::runner::split::Role, String> {
        use crate::runner::split::Role;
        match (self.role, self.shards, &self.coordinator) {
            (None, None, None) => Ok(Role::Whole),
            (Some(RoleArg::Upstreams), Some(shards), None) if shard.is_whole() => {
                match (1..=crate::scenario::shard::MOST_SHARDS).contains(&shards) {
                    true => Ok(Role::Upstreams { shards }),
                    false => {
                        Err(format!("--shards {shards}: from 1 to {}", crate::scenario::shard::MOST_SHARDS))
                    }
                }
            }
            (Some(RoleArg::Upstreams), None, _) => Err("--role upstreams needs --shards N".to_owned()),
            (Some(RoleArg::Upstreams), ..) => {
                Err("--role upstreams plays the whole plan: no --shard, no --coordinator".to_owned())
            }
            (Some(RoleArg::Load), None, Some(coordinator)) => {
                Ok(Role::Load { coordinator: coordinator.clone() })
            }
            (Some(RoleArg::Load), _, None) => {
                Err("--role load needs --coordinator http://HOST:PORT".to_owned())
            }
            (Some(RoleArg::Load), Some(_), _) => {
                Err("--shards is the upstreams role's; a shard takes --shard K/N".to_owned())
            }
            (None, ..) => Err("--shards and --coordinator belong to a split run: give --role".to_owned()),
        }
    }
}

/// Live metrics and the control API of `chaos run`.
#[derive(Debug, Clone, clap::Args)]
pub struct OpsArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics while the run goes on (loopback unless
    /// --metrics-allow-remote; port 0 picks a free port, printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Allow --metrics beyond loopback.
    #[arg(long)]
    pub metrics_allow_remote: bool,
    /// Serve the control API (live faults, skip a phase, stop; a toxiproxy-compatible subset) at
    /// ADDR (loopback unless --control-token is given; port 0 picks a free port, printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub control: Option<std::net::SocketAddr>,
    /// A bearer token every control request must then carry; required beyond loopback. Also
    /// read from CHAOS_CONTROL_TOKEN (a Kubernetes Secret), which keeps it out of the process
    /// list; a load shard presents it to the upstreams role.
    #[arg(long, value_name = "TOKEN", env = "CHAOS_CONTROL_TOKEN", hide_env_values = true)]
    pub control_token: Option<String>,
}

impl OpsArgs {
    pub fn options(&self) -> crate::ops::OpsOptions {
        crate::ops::OpsOptions {
            metrics: self.metrics,
            metrics_allow_remote: self.metrics_allow_remote,
            control: self.control,
            control_token: self.control_token.clone(),
        }
    }
}

/// The files `chaos schema` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaOf {
    /// `results.json`, the record of a run.
    Results,
    /// A scenario file, for editors (`schemas/scenario.json`).
    Scenario,
    /// `scorecard.json`, the grades of `chaos scorecard`.
    Scorecard,
    /// A `chaos scorecard --target` file, for editors (`schemas/scorecard-target.json`).
    ScorecardTarget,
    /// `chaos scorecard compare --format json` (`schemas/scorecard-compare.v1.json`).
    ScorecardCompare,
}

/// Arguments of `chaos proxy`.
#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// Where the target connects (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Where to forward: `http://127.0.0.1:9001`, or a real provider over TLS,
    /// `https://api.openai.com` (with --allow-non-loopback).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Also trust the CA certificates in this PEM file for an `https://` upstream (a private
    /// gateway's); the Mozilla roots are always trusted.
    #[arg(long, value_name = "PEM")]
    pub upstream_ca: Option<std::path::PathBuf>,
    /// The upstream's API family, for the shape of injected errors.
    #[arg(long, default_value = "openai", value_parser = ["openai", "anthropic", "azure", "gemini", "bedrock"])]
    pub family: String,
    /// Not an interposer: copy each connection's bytes both ways to the upstream, with no
    /// HTTP, faults or records (an `http://` upstream only). The floor `chaos bench` measures
    /// the interposer's added latency against.
    #[arg(long, conflicts_with_all = ["fault", "seed", "upstream_ca", "family"])]
    pub bare_relay: bool,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Arguments of `chaos mock`.
#[derive(Debug, clap::Args)]
pub struct MockArgs {
    /// Serve an OpenAI-compatible mock here (repeatable; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub openai: Vec<std::net::SocketAddr>,
    /// Serve an Anthropic mock here (repeatable; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub anthropic: Vec<std::net::SocketAddr>,
    /// Serve an Azure OpenAI mock here (repeatable; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub azure: Vec<std::net::SocketAddr>,
    /// Serve a Gemini mock here (repeatable; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub gemini: Vec<std::net::SocketAddr>,
    /// Serve a Bedrock Converse mock here (repeatable; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub bedrock: Vec<std::net::SocketAddr>,
    /// Accept only N generated keys per mock (`sk-chaos-<family>-0` …); default: any key.
    #[arg(long, value_name = "N")]
    pub keys: Option<u32>,
    /// Models listed by `GET /v1/models` (repeatable); default: a few of each family's.
    #[arg(long)]
    pub model: Vec<String>,
    /// Time to first token, e.g. `300ms`.
    #[arg(long)]
    pub ttft: Option<crate::units::HumanDuration>,
    /// Output speed after the first token.
    #[arg(long, value_name = "N")]
    pub tokens_per_second: Option<f64>,
    /// Spread of each inter-token gap, e.g. `10%`.
    #[arg(long)]
    pub jitter: Option<crate::units::Percent>,
    /// Requests per minute per key and model (1 or more).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub rpm: Option<u64>,
    /// Tokens per minute per key and model (1 or more).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub tpm: Option<u64>,
    /// Share of requests answered "overloaded" (OpenAI 503, Anthropic 529), e.g. `5%`.
    #[arg(long)]
    pub overloaded: Option<crate::units::Percent>,
    /// Not a provider: answer every request on the `--openai` addresses with the OpenAI
    /// mock's stream written straight to the socket, paced the same way but with no HTTP
    /// stack, keys, limits or faults (`--ttft`, `--tokens-per-second`, `--jitter` apply).
    /// The floor `chaos bench` measures the mock's stream timing against.
    #[arg(long, conflicts_with_all = ["anthropic", "azure", "gemini", "keys", "rpm", "tpm", "overloaded", "fault"])]
    pub bare_streams: bool,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// How long a server waits for its clients and how many it holds at once (`chaos proxy`,
/// `chaos mock`, and each interposer and mock of `chaos run`). Real time: `--speed` does not
/// scale them.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ConnectionArgs {
    /// Close a connection whose request head has not come whole this long after its first
    /// byte (after the connection opened, for its first request); a 408 when part of it came.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = positive_duration)]
    pub header_timeout: crate::units::HumanDuration,
    /// Close a connection left idle this long after an answer (no request in flight). Never
    /// cuts a request being answered, however slowly (a `latency` or `hang` fault, a stream).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = positive_duration)]
    pub idle_timeout: crate::units::HumanDuration,
    /// Hold at most N connections open per server; one more gets a 503 with `Connection:
    /// close` and is counted as shed (default: half of what `ulimit -n` leaves after 256).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<std::num::NonZeroUsize>,
}

impl ConnectionArgs {
    /// The limits the arguments ask for.
    pub fn limits(&self) -> crate::net::ConnectionLimits {
        crate::net::ConnectionLimits {
            header_timeout: self.header_timeout.0,
            idle_timeout: self.idle_timeout.0,
            max_connections: self
                .max_connections
                .map_or_else(crate::net::default_max_connections, std::num::NonZeroUsize::get),
        }
    }
}

/// A duration above zero.
fn positive_duration(text: &str) -> Result<crate::units::HumanDuration, String> {
    match text.parse::<crate::units::HumanDuration>() {
        Ok(duration) if duration.0.is_zero() => Err("must be longer than zero".into()),
        parsed => parsed.map_err(|error| error.to_string()),
    }
}

/// How many threads a standalone server (`chaos mock`, `chaos proxy`) serves on.
#[derive(Debug, clap::Args)]
pub struct ThreadArgs {
    /// Serve on N threads, each with its own listener on the same address and its own
    /// connections (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,
}

impl ThreadArgs {
    /// The number asked for, or the machine's available parallelism.
    pub fn count(&self) -> usize {
        self.threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, std::num::NonZeroUsize::get)
    }
}

/// Faults given on the command line (`chaos mock`, `chaos proxy`), and where they may run.
#[derive(Debug, clap::Args)]
pub struct FaultArgs {
    /// A fault, as in a scenario: `--fault '{ status: 429, retry_after: 1s }'` (repeatable,
    /// applied in order).
    #[arg(long, value_name = "YAML")]
    pub fault: Vec<String>,
    /// Seeds the faults' draws (and a mock's output lengths, jitter and overload).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Allow addresses beyond loopback.
    #[arg(long)]
    pub allow_non_loopback: bool,
}
