//! The one integration-test binary (`autotests = false`), so linking stays fast.

mod support;

mod abort_on_fail;
mod bench;
mod connection_faults;
mod cost;
mod duplicates;
mod end_to_end;
mod environment;
mod failover;
mod fidelity;
mod gateways;
mod halt;
mod http2;
mod https_upstream;
mod interrupt;
mod invalid_scenarios;
mod load_generator;
mod merge;
mod mocks;
mod ops;
mod passthrough;
mod proxy_command;
mod rate_limit_fault;
mod replay;
mod report_browser;
mod report_command;
mod retry_after;
mod scenarios;
mod schema;
mod sdk_tier;
mod shards;
mod signals;
mod stream_faults;
mod upstream_connections;
mod wall_clock;
