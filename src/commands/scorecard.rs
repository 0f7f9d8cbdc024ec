//! `chaos scorecard`: grades a gateway, or a built-in client profile, on the standard suite and
//! exits by `--fail-below`.

use std::path::{Path, PathBuf};

use super::{interrupted, invalid};
use crate::{
    scorecard::Grade,
    speed::Speed,
    suite::{self, target_file::SuiteTarget, SuiteOptions},
    Exit,
};

/// What `chaos scorecard` was asked.
#[derive(Debug, Clone)]
pub struct ScorecardHow {
    pub target: String,
    pub quick: bool,
    pub out: Option<PathBuf>,
    pub fail_below: Option<String>,
    pub speed: Speed,
}

/// Runs the suite against the target and writes the card; exit 1 when the overall grade is
/// below `--fail-below`, 2 on bad input (nothing started).
pub async fn scorecard(how: ScorecardHow) -> anyhow::Result<Exit> {
    let fail_below = match how.fail_below.as_deref().map(|letter| (letter, Grade::from_letter(letter))) {
        Some((letter, None)) => {
            eprintln!("error: --fail-below {letter}: a grade is one of A, B, C, D, F");
            return Ok(Exit::InvalidScenario);
        }
        Some((_, grade)) => grade,
        None => None,
    };
    let target = match how.target.strip_prefix("builtin:") {
        Some(profile) => match SuiteTarget::builtin(profile) {
            Ok(target) => target,
            Err(refusal) => {
                eprintln!("error: --target {}: {refusal}", how.target);
                return Ok(Exit::InvalidScenario);
            }
        },
        None => {
            match SuiteTarget::read(Path::new(&how.target)) {
                Ok(target) if !how.speed.is_real_time() => {
                    eprintln!("error: --speed: a gateway ({}) runs on its own clock; the suite runs it at real time", target.name);
                    return Ok(Exit::InvalidScenario);
                }
                Ok(target) => target,
                Err(error) => return Ok(invalid(&error)),
            }
        }
    };
    let out = how.out.unwrap_or_else(|| default_folder(&target.name));
    let options =
        SuiteOptions { quick: how.quick, speed: how.speed, out: std::path::absolute(&out).unwrap_or(out) };
    let plans = match suite::prepare(&target, &options)? {
        Ok(plans) => plans,
        Err(error) => return Ok(invalid(&error)),
    };
    let card = suite::run(&target, plans, &options, interrupted).await?;
    suite::write(&card, &options.out)?;
    print!("{}", crate::scorecard::markdown::render(&card));
    println!("scorecard: {}", options.out.join("scorecard.html").display());
    Ok(match fail_below {
        Some(floor) if !card.overall.at_least(floor) => {
            eprintln!("the overall grade {} is below --fail-below {}", card.overall.label(), floor.label());
            Exit::Failed
        }
        _ => Exit::Pass,
    })
}

/// `reports/scorecard-<target>-<UTC timestamp>`.
fn default_folder(target: &str) -> PathBuf {
    let safe: String =
        target.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    PathBuf::from("reports").join(format!("scorecard-{safe}-{stamp}"))
}
