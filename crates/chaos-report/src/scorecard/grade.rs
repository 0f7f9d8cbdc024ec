//! Grades and thresholds: A to F from a figure and four bounds, "inconclusive" when there was
//! nothing to grade, and the overall grade that no critical dimension can be beaten by.

use serde::{Deserialize, Serialize};

/// A dimension's grade, best first. `Inconclusive`: its scenario ran but measured too little
/// (or could not run) to grade; never mistaken for a pass. `NotGraded`: the suite has no
/// scenario for it yet.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Grade {
    A,
    B,
    C,
    D,
    F,
    #[serde(rename = "inconclusive")]
    Inconclusive,
    #[serde(rename = "not graded")]
    NotGraded,
}

impl Grade {
    /// The letters, best first.
    pub const LETTERS: [Grade; 5] = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::F];

    /// How the grade is written: `A` … `F`, `inconclusive`, `not graded`.
    pub fn label(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
            Grade::Inconclusive => "inconclusive",
            Grade::NotGraded => "not graded",
        }
    }

    /// A letter given as `--fail-below B`.
    pub fn from_letter(text: &str) -> Option<Grade> {
        Grade::LETTERS.into_iter().find(|grade| grade.label().eq_ignore_ascii_case(text))
    }

    /// Whether this grade is at least `floor` (an inconclusive grade never is).
    pub fn at_least(self, floor: Grade) -> bool {
        self != Grade::Inconclusive && self != Grade::NotGraded && self <= floor
    }
}

/// Which way a figure improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// The bounds a figure must meet for A, B, C and D (inclusive); one that meets none is an F.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub better: Better,
    pub bounds: [f64; 4],
}

impl Thresholds {
    /// The grade of `figure`, and the bound it met (`None` for an F).
    pub fn grade(&self, figure: f64) -> (Grade, Option<f64>) {
        let meets = |bound: f64| match self.better {
            Better::Higher => figure >= bound,
            Better::Lower => figure <= bound,
        };
        match self.bounds.iter().position(|&bound| meets(bound)) {
            Some(index) => (Grade::LETTERS[index], Some(self.bounds[index])),
            None if figure.is_nan() => (Grade::Inconclusive, None),
            None => (Grade::F, None),
        }
    }

    /// The bound for `grade` (A–D), as the rubric states it, e.g. `≥ 99 %`.
    pub fn bound_of(&self, grade: Grade) -> Option<f64> {
        Grade::LETTERS
            .iter()
            .position(|&letter| letter == grade)
            .and_then(|index| self.bounds.get(index))
            .copied()
    }
}

/// The overall grade: the worst critical dimension's, and no better than one letter above the
/// worst other dimension's. An inconclusive critical dimension makes the whole inconclusive;
/// dimensions not graded yet count for nothing.
pub fn overall(grades: impl IntoIterator<Item = (Grade, bool)>) -> Grade {
    let mut worst_critical = Grade::A;
    let mut cap = Grade::A;
    for (grade, critical) in grades {
        match (grade, critical) {
            (Grade::NotGraded, _) | (Grade::Inconclusive, false) => {}
            (Grade::Inconclusive, true) => return Grade::Inconclusive,
            (grade, true) => worst_critical = worst_critical.max(grade),
            (grade, false) => cap = cap.max(one_better(grade)),
        }
    }
    worst_critical.max(cap)
}

/// The letter one above `grade` (A stays A).
fn one_better(grade: Grade) -> Grade {
    let index = Grade::LETTERS.iter().position(|&letter| letter == grade).unwrap_or(0);
    Grade::LETTERS[index.saturating_sub(1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPLIANCE: Thresholds = Thresholds { better: Better::Higher, bounds: [0.99, 0.95, 0.80, 0.50] };
    const AMPLIFICATION: Thresholds = Thresholds { better: Better::Lower, bounds: [1.0, 1.25, 1.5, 2.0] };

    #[test]
    fn each_boundary_of_a_higher_is_better_figure_is_inclusive() {
        assert_eq!(COMPLIANCE.grade(0.99), (Grade::A, Some(0.99)));
        assert_eq!(COMPLIANCE.grade(0.9899).0, Grade::B);
        assert_eq!(COMPLIANCE.grade(0.95).0, Grade::B);
        assert_eq!(COMPLIANCE.grade(0.9499).0, Grade::C);
        assert_eq!(COMPLIANCE.grade(0.80).0, Grade::C);
        assert_eq!(COMPLIANCE.grade(0.7999).0, Grade::D);
        assert_eq!(COMPLIANCE.grade(0.50).0, Grade::D);
        assert_eq!(COMPLIANCE.grade(0.4999), (Grade::F, None));
    }

    #[test]
    fn each_boundary_of_a_lower_is_better_figure_is_inclusive() {
        assert_eq!(AMPLIFICATION.grade(1.0).0, Grade::A);
        assert_eq!(AMPLIFICATION.grade(1.0001).0, Grade::B);
        assert_eq!(AMPLIFICATION.grade(1.25).0, Grade::B);
        assert_eq!(AMPLIFICATION.grade(1.5).0, Grade::C);
        assert_eq!(AMPLIFICATION.grade(2.0).0, Grade::D);
        assert_eq!(AMPLIFICATION.grade(2.0001).0, Grade::F);
        assert_eq!(AMPLIFICATION.grade(f64::INFINITY).0, Grade::F);
    }

    #[test]
    fn a_figure_that_is_not_a_number_is_inconclusive_never_a() {
        assert_eq!(COMPLIANCE.grade(f64::NAN).0, Grade::Inconclusive);
        assert_eq!(AMPLIFICATION.grade(f64::NAN).0, Grade::Inconclusive);
    }

    #[test]
    fn the_overall_grade_is_no_better_than_the_worst_critical_dimension() {
        assert_eq!(overall([(Grade::A, true), (Grade::D, true), (Grade::A, false)]), Grade::D);
        assert_eq!(overall([(Grade::A, true), (Grade::F, false)]), Grade::D, "one above the worst other");
        assert_eq!(overall([(Grade::A, true), (Grade::Inconclusive, true)]), Grade::Inconclusive);
        assert_eq!(
            overall([(Grade::B, true), (Grade::Inconclusive, false), (Grade::NotGraded, true)]),
            Grade::B
        );
    }

    #[test]
    fn fail_below_reads_a_letter_and_never_passes_an_inconclusive_grade() {
        assert_eq!(Grade::from_letter("b"), Some(Grade::B));
        assert_eq!(Grade::from_letter("E"), None);
        assert!(Grade::A.at_least(Grade::B) && Grade::B.at_least(Grade::B) && !Grade::C.at_least(Grade::B));
        assert!(!Grade::Inconclusive.at_least(Grade::F));
    }
}
