//! `chaos scorecard compare`: reads the cards, refuses what does not compare (naming the file),
//! prints the comparison in the format asked and exits by `--fail-on-regression`.

use crate::{
    cli::{CompareArgs, CompareFormat},
    scorecard::compare::{self, read},
    Exit,
};

/// Compares the cards; exit 1 with `--fail-on-regression` when a dimension's grade got worse
/// from the first card to the last, 2 on a card that cannot be read or compared.
pub fn compare(args: &CompareArgs) -> anyhow::Result<Exit> {
    let mut cards = Vec::with_capacity(args.cards.len());
    for path in &args.cards {
        let file = path.display().to_string();
        let card = std::fs::read_to_string(path)
            .map_err(|error| error.to_string())
            .and_then(|text| read::card(&text));
        match card {
            Ok(card) => cards.push((file, card)),
            Err(refusal) => return Ok(refused(&format!("{file}: {refusal}"))),
        }
    }
    let notes = match read::comparable(&cards, args.allow_mixed) {
        Ok(notes) => notes,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    let comparison = compare::compare(&cards, notes);
    let text = match args.format {
        CompareFormat::Table => compare::render::terminal(&comparison),
        CompareFormat::Md => compare::render::markdown(&comparison),
        CompareFormat::Json => serde_json::to_string_pretty(&comparison)? + "\n",
    };
    print!("{text}");
    Ok(match args.fail_on_regression && !comparison.regressions.is_empty() {
        true => {
            eprintln!("regressions: {} (--fail-on-regression)", comparison.regressions.join(", "));
            Exit::Failed
        }
        false => Exit::Pass,
    })
}

fn refused(why: &str) -> Exit {
    eprintln!("error: {why}");
    Exit::InvalidScenario
}
